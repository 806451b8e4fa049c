"""A clinic database for the technician's screens: a technician's account, a
supervisor's, and a patient with an open course aimed at the simulator's
target and a motor threshold of 52 % MSO (120 % MT -> 62 % MSO)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils

from console.clinic.records import Patient, create_patient, open_course, record_motor_threshold
from console.people.admin import create_user
from console.people.user import User
from db.database import open_database
from tests.engine.clinic_setup import screen_uneventfully, simulator_target


@dataclass
class Clinic:
    path: Path
    db: sqlite_utils.Database
    technician: User
    supervisor: User
    patient: Patient
    physician: User | None = None


def make_clinic(path: Path, protocol: str = "10hz") -> Clinic:
    db = open_database(path)
    admin = create_user(db, None, "admin", "Ada Admin", "admin", "correct horse battery")
    tech = create_user(db, admin, "tina", "Tina Tech", "technician", "tina's long password")
    sup = create_user(db, admin, "sam", "Dr Sam Super", "supervisor", "sam's long password")
    doc = create_user(db, admin, "phil", "Dr Phil Physician", "physician", "phil's long password")
    patient = create_patient(db, "P-1001", "Alex Example", "1980-02-03")
    open_course(db, patient.id, protocol, 120.0, target_pose=simulator_target())
    record_motor_threshold(db, patient.id, 52.0, "EMG")
    screen_uneventfully(db, patient.id)
    return Clinic(path, db, tech, sup, patient, doc)


@pytest.fixture
def clinic(tmp_path: Path):
    c = make_clinic(tmp_path / "clinic.db")
    yield c
    c.db.close()


@pytest.fixture
def itbs_clinic(tmp_path: Path):
    c = make_clinic(tmp_path / "clinic.db", "itbs")
    yield c
    c.db.close()
