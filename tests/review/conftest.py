"""The review tests' database: a session for every flag, recorded once per test run, copied per test.

Building it records eleven sessions from the simulator through the record
command (some 20 s on a loaded machine), so it is made once; every test gets
its own copy of the file, because signing and addenda write to it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils

from console.people import login as people_login
from console.people import passwords
from console.people.user import User, get_user
from db.database import open_database
from tests.conftest import fast_password_hasher

from .flag_db import PASSWORDS, build

FAST = fast_password_hasher()


@pytest.fixture(autouse=True)
def _fast_passwords(fast_hasher):
    """Signing re-checks a password, which need not be slow here (tests/conftest.py)."""
    return fast_hasher


@pytest.fixture(scope="session")
def flag_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("review-flags")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(passwords, "HASHER", FAST)
        mp.setattr(people_login, "_dummy_hash", None)
        ids = build(folder / "clinic.db", folder)
    return folder / "clinic.db", ids


@dataclass
class FlagDb:
    path: Path
    db: sqlite_utils.Database
    ids: dict[str, int]
    users: dict[str, User]

    def user(self, name: str) -> User:
        return self.users[name]


@pytest.fixture
def flag_db(flag_source: tuple[Path, dict[str, int]], tmp_path: Path) -> Iterator[FlagDb]:
    source, ids = flag_source
    path = tmp_path / "clinic.db"
    shutil.copy2(source, path)
    db = open_database(path)
    users = {name: get_user(db, name) for name in PASSWORDS}
    yield FlagDb(path, db, dict(ids), users)  # type: ignore[arg-type]
    db.close()
