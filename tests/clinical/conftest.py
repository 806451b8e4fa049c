"""Fixtures for the clinical-safety tests: a real database file, real accounts (fast Argon2id),
a patient with an open course, and sessions written as the recorder leaves them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from console.clinic import records as clinic
from console.people.admin import create_user
from console.people.user import User
from db.database import new_uuid, open_database, to_utc_iso

PASSWORDS = {"ada": "admin-pass-1", "tom": "tech-pass-1", "sue": "super-pass-1", "phil": "physician-pass-1"}


@pytest.fixture(autouse=True)
def _fast_passwords(fast_hasher):
    """Every test here hashes with the fast parameters (tests/conftest.py)."""
    return fast_hasher


@pytest.fixture
def db(tmp_path: Path):
    database = open_database(tmp_path / "clinic" / "tms-console.db")
    yield database
    database.close()


@pytest.fixture
def people(db) -> dict[str, User]:
    """An admin (ada), a technician (tom), a supervisor (sue) and a physician (phil)."""
    admin = create_user(db, None, "ada", "Ada Admin", "admin", PASSWORDS["ada"])
    return {
        "ada": admin,
        "tom": create_user(db, admin, "tom", "Tom Tech", "technician", PASSWORDS["tom"]),
        "sue": create_user(db, admin, "sue", "Dr. Sue Super", "supervisor", PASSWORDS["sue"]),
        "phil": create_user(db, admin, "phil", "Dr. Phil Physician", "physician", PASSWORDS["phil"]),
    }


@pytest.fixture
def patient(db) -> clinic.Patient:
    return clinic.create_patient(db, "P-0001", "Jane Roe", "1980-04-23")


def open_course(db, patient_id: int, **kwargs) -> clinic.Course:
    fields = {"protocol": "10hz", "percent_mt": 120, "planned_sessions": 36, "schedule": "acute"}
    fields.update(kwargs)
    return clinic.open_course(db, patient_id, **fields)


def add_session(
    db, course: clinic.Course, started: datetime, *, status: str = "completed", pulses: int = 3000
) -> int:
    """A session of the course that started at ``started`` (local time when naive)."""
    return int(
        db.execute(
            "INSERT INTO sessions (uuid, patient_id, course_id, status, started_at, device_url, technician, "
            "pulses_delivered) VALUES (?, ?, ?, ?, ?, 'sim://', 'tom', ?)",
            [new_uuid(), course.patient_id, course.id, status, to_utc_iso(started), pulses],
        ).lastrowid
    )
