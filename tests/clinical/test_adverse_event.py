"""Adverse events: the clinic's first-aid steps, and the event kept with the session record."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from console import audit
from console.safety import adverse_event
from console.safety.adverse_event import AdverseEventError, first_aid_steps, record_adverse_event
from resources import load_json
from tests.clinical.conftest import add_session, open_course


def test_first_aid_steps_are_the_clinics_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert first_aid_steps() == load_json("first_aid.json")["steps"]
    assert len(first_aid_steps()) >= 5
    own = load_json("first_aid.json") | {"steps": ["Press the red button.", "Call 555-0100."]}
    (tmp_path / "first_aid.json").write_text(json.dumps(own))
    monkeypatch.setenv("TMS_CONSOLE_RESOURCES", str(tmp_path))
    assert first_aid_steps() == ["Press the red button.", "Call 555-0100."]


def test_an_event_during_a_session_is_kept_and_shows_in_the_session_log(db, people, patient) -> None:
    course = open_course(db, patient.id)
    session_id = add_session(db, course, datetime.now(), status="stopped", pulses=1200)
    pressed = datetime.now()
    event_id = record_adverse_event(
        db,
        people["tom"],
        patient.id,
        "seizure",
        "Right arm jerking for about 40 s, then drowsy.",
        session_id=session_id,
        occurred_at=pressed,
        actions_taken="Coil removed, recovery position, Dr. Sue called",
    )
    [event] = adverse_event.adverse_events(db, session_id=session_id)
    assert event["id"] == event_id and event["course_id"] == course.id and event["kind"] == "seizure"
    assert event["by_user"] == "tom" and event["actions_taken"].startswith("Coil removed")
    kind, code, detail = db.execute(
        "SELECT kind, code, detail FROM session_events WHERE session_id = ?", [session_id]
    ).fetchone()
    assert (kind, code) == ("adverse_event", "seizure")
    assert json.loads(detail)["adverse_event_id"] == event_id
    assert audit.history(db, "adverse_event", event_id)[0]["actor"] == "tom"


def test_an_event_needs_a_description_and_the_right_patient(db, people, patient) -> None:
    with pytest.raises(AdverseEventError, match="Describe what happened"):
        record_adverse_event(db, people["tom"], patient.id, "seizure", "  ")
    course = open_course(db, patient.id)
    session_id = add_session(db, course, datetime.now())
    from console.clinic import records as clinic

    other = clinic.create_patient(db, "P-9", "Other Person")
    with pytest.raises(AdverseEventError, match="not a session of this patient"):
        record_adverse_event(db, people["tom"], other.id, "other", "fainted", session_id=session_id)
    assert db.execute("SELECT count(*) FROM adverse_events").fetchone()[0] == 0


def test_adverse_events_are_append_only(db, people, patient) -> None:
    import sqlite3

    record_adverse_event(
        db, people["tom"], patient.id, "syncope (fainting)", "Fainted for 5 s after the session."
    )
    for sql in ("UPDATE adverse_events SET description = 'nothing'", "DELETE FROM adverse_events"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)
