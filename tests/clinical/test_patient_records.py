"""Patients and courses managed by a person: permission first, every edit audited with old values."""

from __future__ import annotations

import pytest

from console import audit
from console.clinic import patient_records
from console.errors import ClinicError
from console.people.permissions import PermissionDenied


def test_create_and_edit_a_patient_are_audited(db, people) -> None:
    p = patient_records.create_patient(db, people["sue"], "P-100", "Jane Q. Roe", "1980-04-23")
    assert p.initials == "JQR"
    q = patient_records.update_patient(
        db, people["sue"], p.id, clinic_id="P-100", name="Jane Doe", date_of_birth="1980-04-23"
    )
    assert q.name == "Jane Doe" and q.initials == "JD"
    changed, created = audit.history(db, "patient", p.id)
    assert created["action"] == "create_patient" and created["actor"] == "sue"
    assert changed["old"]["name"] == "Jane Q. Roe" and changed["new"]["name"] == "Jane Doe"


def test_a_duplicate_clinic_id_is_refused_with_a_clear_message(db, people) -> None:
    patient_records.create_patient(db, people["sue"], "P-100", "Jane Roe")
    with pytest.raises(ClinicError, match="clinic id P-100 already exists"):
        patient_records.create_patient(db, people["sue"], "p-100", "John Roe")
    other = patient_records.create_patient(db, people["sue"], "P-101", "John Roe")
    with pytest.raises(ClinicError, match="already exists"):
        patient_records.update_patient(
            db, people["sue"], other.id, clinic_id="P-100", name="John Roe", date_of_birth=None
        )
    assert len(audit.history(db, "patient")) == 2  # the refused edits wrote nothing


def test_open_and_close_a_course_are_audited(db, people) -> None:
    p = patient_records.create_patient(db, people["sue"], "P-100", "Jane Roe")
    course = patient_records.open_course(
        db,
        people["sue"],
        p.id,
        protocol="itbs",
        percent_mt=120,
        planned_sessions=36,
        targeting_method="Beam F3",
    )
    closed = patient_records.close_course(db, people["sue"], course.id, "remission after 30 sessions")
    assert closed.status == "closed"
    closing, opening = audit.history(db, "course", course.id)
    assert opening["new"]["targeting_method"] == "Beam F3"
    assert closing["old"]["status"] == "open" and closing["new"]["close_reason"].startswith("remission")


def test_a_technician_does_not_manage_patients(db, people) -> None:
    with pytest.raises(PermissionDenied):
        patient_records.create_patient(db, people["tom"], "P-100", "Jane Roe")
    assert db.execute("SELECT count(*) FROM patients").fetchone()[0] == 0
