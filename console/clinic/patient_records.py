"""Patients, courses and motor thresholds as a person manages them: permission, then audit.

:mod:`console.clinic.records` keeps the records and checks what is typed; this module
is the door a person goes through. It checks that the person may manage
patients, makes the change and writes the audit row (who, when, old and new
values) in the same transaction, so an edit without its audit row cannot
exist. The screens call these, never :mod:`console.clinic.records`'s writers directly.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from datetime import date, datetime
from typing import Any

import sqlite_utils

from console.audit import audit, write_transaction
from console.clinic import records as clinic
from console.clinic.motor_threshold import validate_mt
from console.clinic.records import Course, MotorThreshold, Patient
from console.errors import ClinicError
from console.people.permissions import require
from console.people.user import User

log = logging.getLogger(__name__)


def _values(record: Any) -> dict[str, Any]:
    return dataclasses.asdict(record)


def create_patient(
    db: sqlite_utils.Database, user: User, clinic_id: str, name: str, date_of_birth: date | str | None = None
) -> Patient:
    require(user, "manage_patients")
    with write_transaction(db):
        patient = clinic.create_patient(db, clinic_id, name, date_of_birth)
        audit(db, user, "create_patient", "patient", patient.id, None, _values(patient))
    log.info("patient %d created by %s", patient.id, user.username)
    return patient


def update_patient(
    db: sqlite_utils.Database,
    user: User,
    patient_id: int,
    *,
    clinic_id: str,
    name: str,
    date_of_birth: date | str | None,
) -> Patient:
    """Change a patient's clinic id, name or date of birth; the old values stay in the audit log."""
    require(user, "manage_patients")
    old = clinic.get_patient(db, patient_id)
    clinic_id = (clinic_id or "").strip()
    name = " ".join((name or "").split())
    if not clinic_id:
        raise ClinicError("Enter the patient's clinic id.")
    if not name:
        raise ClinicError("Enter the patient's name.")
    initials = clinic.initials_of(name)
    if not initials:
        raise ClinicError(f"The name {name!r} has no letters to take initials from.")
    dob = clinic._clean_dob(date_of_birth)
    other = clinic.find_patient(db, clinic_id)
    if other is not None and other.id != patient_id:
        raise ClinicError(f"A patient with clinic id {other.clinic_id} already exists.")
    try:
        with write_transaction(db):
            db.execute(
                "UPDATE patients SET clinic_id = ?, name = ?, date_of_birth = ?, initials = ? WHERE id = ?",
                [clinic_id, name, dob, initials, patient_id],
            )
            new = clinic.get_patient(db, patient_id)
            audit(db, user, "update_patient", "patient", patient_id, _values(old), _values(new))
    except sqlite3.IntegrityError:
        raise ClinicError(f"A patient with clinic id {clinic_id} already exists.") from None
    return new


def open_course(db: sqlite_utils.Database, user: User, patient_id: int, **fields: Any) -> Course:
    """Open a course (fields as :func:`console.clinic.records.open_course` takes them), audited."""
    require(user, "manage_patients")
    with write_transaction(db):
        course = clinic.open_course(db, patient_id, **fields)
        audit(db, user, "open_course", "course", course.id, None, _values(course))
    log.info("course %d opened by %s", course.id, user.username)
    return course


def close_course(db: sqlite_utils.Database, user: User, course_id: int, reason: str) -> Course:
    require(user, "manage_patients")
    old = clinic.get_course(db, course_id)
    with write_transaction(db):
        course = clinic.close_course(db, course_id, reason)
        audit(db, user, "close_course", "course", course_id, _values(old), _values(course))
    return course


def record_motor_threshold(
    db: sqlite_utils.Database,
    user: User,
    patient_id: int,
    mso: object,
    method: str,
    measured_at: datetime | str | None = None,
    *,
    device_model: str | None = None,
    coil_type: str | None = None,
) -> MotorThreshold:
    """Record an MT measured by ``user`` (value as typed is checked first: 1-100 % MSO), with the
    stimulator and coil type it was measured on."""
    require(user, "record_session")
    value = validate_mt(mso)
    with write_transaction(db):
        mt = clinic.record_motor_threshold(db, patient_id, value, method, measured_at, user.username,
                                           device_model=device_model, coil_type=coil_type)
        audit(db, user, "record_motor_threshold", "motor_threshold", mt.id, None, _values(mt))
    return mt
