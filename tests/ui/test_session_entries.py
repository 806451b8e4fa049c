"""What the technician adds to a session's record from the console: append-only,
audited, kept apart (the patient's words from what the technician saw)."""

from __future__ import annotations

import json

import pytest

from console.errors import ClinicError
from console.people.permissions import PermissionDenied
from console.people.user import get_user
from console.session import entries as session_entries
from db.database import new_uuid, utc_now


def a_session(db, patient_id: int) -> int:
    return int(db.execute(
        "INSERT INTO sessions (uuid, patient_id, status, started_at, device_url) "
        "VALUES (?, ?, 'completed', ?, ?)",
        [new_uuid(), patient_id, utc_now(), "replay://x"]).lastrowid)


def test_observations_keep_the_patients_words_apart_and_are_audited(clinic) -> None:
    sid = a_session(clinic.db, clinic.patient.id)  # an ended session still takes new entries
    session_entries.add_observation(clinic.db, clinic.technician, sid, mood="Tired ",
                                    patient_said="“I can't sleep”", technician_saw="Yawned often")
    row = next(clinic.db.query("SELECT * FROM session_events WHERE session_id = ?", [sid]))
    assert row["kind"] == "observation" and row["by_user"] == "tina"
    assert json.loads(row["detail"]) == {"mood": "Tired", "patient_said": "“I can't sleep”",
                                         "technician_saw": "Yawned often"}
    audit = list(clinic.db.query("SELECT action, actor FROM audit_log WHERE action = 'add_observation'"))
    assert audit == [{"action": "add_observation", "actor": "tina"}]


def test_bad_entries_are_refused_with_a_message(clinic) -> None:
    sid = a_session(clinic.db, clinic.patient.id)
    with pytest.raises(ClinicError, match="empty"):
        session_entries.add_observation(clinic.db, clinic.technician, sid)
    with pytest.raises(ClinicError, match="0 to 10"):
        session_entries.add_side_effect(clinic.db, clinic.technician, sid, "headache", 11)
    with pytest.raises(ClinicError, match="not answered"):
        session_entries.add_checklist(clinic.db, clinic.technician, sid, [{"id": "x", "answer": "maybe"}])
    with pytest.raises(ClinicError, match="no session"):
        session_entries.add_side_effect(clinic.db, clinic.technician, 999, "headache", 2)
    assert clinic.db.execute("SELECT count(*) FROM session_events").fetchone()[0] == 0


def test_only_clinical_staff_add_to_a_session(clinic) -> None:
    sid = a_session(clinic.db, clinic.patient.id)
    admin = get_user(clinic.db, "admin")
    with pytest.raises(PermissionDenied):
        session_entries.add_side_effect(clinic.db, admin, sid, "headache", 2)
    assert clinic.db.execute("SELECT count(*) FROM session_events").fetchone()[0] == 0
