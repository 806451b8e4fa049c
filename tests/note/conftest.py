"""Fixtures for the handoff note: a recorded session in a real SQLite file, real accounts for sign-off."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.people.admin import create_user
from console.people.user import User

from .recorded import Recorded, typical

SUPERVISOR_PASSWORD = "super-pass-1"


@pytest.fixture
def recorded(tmp_path: Path) -> Recorded:
    rec = typical(tmp_path / "clinic.db")
    yield rec
    rec.db.close()


@pytest.fixture
def supervisor(recorded: Recorded, fast_hasher: None) -> User:
    admin = create_user(recorded.db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
    return create_user(recorded.db, admin, "pnatarajan", "Dr. Priya Natarajan", "supervisor",
                                SUPERVISOR_PASSWORD)


@pytest.fixture
def clinic_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clinic's own resources folder (TMS_CONSOLE_RESOURCES), empty until a test puts a file there."""
    folder = tmp_path / "clinic-resources"
    folder.mkdir()
    monkeypatch.setenv("TMS_CONSOLE_RESOURCES", str(folder))
    return folder
