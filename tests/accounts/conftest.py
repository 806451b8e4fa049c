"""Fixtures for accounts, audit and sign-off: a real database file, real Argon2id.

Argon2id runs with small parameters here (1 pass over 1 MiB) so a test that
logs in twenty times stays quick; the shipped parameters are checked in
test_accounts.py. Sessions are written as the recorder would leave them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.people.admin import create_user
from console.people.user import User
from db.database import new_uuid, open_database, utc_now

PASSWORDS = {"ada": "admin-pass-1", "tom": "tech-pass-1", "sue": "super-pass-1", "sam": "super-pass-2"}


@pytest.fixture(autouse=True)
def _fast_passwords(fast_hasher):
    """Every test here hashes with the fast parameters (tests/conftest.py)."""
    return fast_hasher


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "clinic" / "tms-console.db"


@pytest.fixture
def db(db_path: Path):
    database = open_database(db_path)
    yield database
    database.close()


@pytest.fixture
def people(db) -> dict[str, User]:
    """An admin (ada), a technician (tom) and two supervisors (sue, sam)."""
    admin = create_user(db, None, "ada", "Ada Admin", "admin", PASSWORDS["ada"])
    return {
        "ada": admin,
        "tom": create_user(db, admin, "tom", "Tom Tech", "technician", PASSWORDS["tom"]),
        "sue": create_user(db, admin, "sue", "Dr. Sue Super", "supervisor", PASSWORDS["sue"]),
        "sam": create_user(db, admin, "sam", "Dr. Sam Second", "supervisor", PASSWORDS["sam"]),
    }


def add_session(db, *, ended: bool = True, pulses: int = 3) -> int:
    """A patient's session with a few pulses, ended (completed) unless ``ended`` is False."""
    now = utc_now()
    patient = db.execute(
        "INSERT INTO patients (uuid, clinic_id, name, initials, created_at) VALUES (?, ?, ?, ?, ?)",
        [new_uuid(), f"P-{new_uuid()[:8]}", "Jane Roe", "JR", now],
    ).lastrowid
    with db.atomic():
        session = db.execute(
            "INSERT INTO sessions (uuid, patient_id, started_at, device_url, technician) "
            "VALUES (?, ?, ?, 'sim://', 'tom')", [new_uuid(), patient, now],
        ).lastrowid
        for n in range(1, pulses + 1):
            db.execute("INSERT INTO pulses (session_id, count, device_t_ms, mso) VALUES (?, ?, ?, 50)",
                       [session, n, n * 100])
    if ended:
        db.execute("UPDATE sessions SET status = 'completed', ended_at = ?, pulses_delivered = ? "
                   "WHERE id = ?", [utc_now(), pulses, session])
    return int(session)


def dump(db) -> list[str]:
    """Everything in the file, as SQL text: compared before and after to show nothing was written."""
    return list(db.conn.iterdump())
