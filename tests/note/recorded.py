"""A recorded session in a real SQLite file, written the way the session engine writes one.

Rows go in while the session is ``recording`` (the schema's triggers refuse
pulses afterwards), then the session row is ended; the technician's end-of-
session entries (observations) are events added after the end, as at the chair.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from db.database import new_uuid, open_database

START = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass
class Recorded:
    db: sqlite_utils.Database
    patient_id: int
    course_id: int
    session_id: int
    extra_sessions: list[int] = field(default_factory=list)


def make_db(path: Path) -> sqlite_utils.Database:
    return open_database(path)


def add_patient_and_course(db: sqlite_utils.Database, *, planned: int = 36, schedule: str = "acute",
                           protocol: str = "itbs", percent_mt: float = 120.0) -> tuple[int, int]:
    now = iso(START - timedelta(days=30))
    patient = db["patients"].insert({
        "uuid": new_uuid(), "clinic_id": "MRN-20417", "name": "Alice Bergström",
        "date_of_birth": "1984-03-02", "initials": "A.B.", "created_at": now,
    }).last_pk
    course = db["courses"].insert({
        "uuid": new_uuid(), "patient_id": patient, "protocol": protocol, "target": "left DLPFC",
        "targeting_method": "Beam F3", "percent_mt": percent_mt, "planned_sessions": planned,
        "schedule": schedule, "opened_at": now,
    }).last_pk
    return patient, course


def record_session(db: sqlite_utils.Database, patient: int, course: int, *, number: int,
                   started: datetime, status: str = "completed", end_reason: str | None = None,
                   planned: int = 600, delivered: int | None = None,
                   events: list[tuple[str, str | None, Any]] = (),
                   after_end: list[tuple[str, str | None, Any]] = (),
                   technician: str = "Jamie Rivera", pulse_rows: int = 30) -> int:
    """One session; ``events`` (kind, code, detail) are written while recording, ``after_end`` after."""
    delivered = planned if delivered is None else delivered
    session = db["sessions"].insert({
        "uuid": new_uuid(), "patient_id": patient, "course_id": course, "number_in_course": number,
        "status": "recording", "started_at": iso(started), "technician": technician,
        "device_url": "sim://", "device_vendor": "Acme Neuro", "device_model": "SIM-1",
        "protocol": "iTBS left DLPFC", "pulses_planned": planned, "mt_mso": 50.0,
        "percent_mt": 120.0, "prescribed_mso": 60,
    }).last_pk
    with db.atomic():
        db["pulses"].insert_all(
            {"session_id": session, "count": i, "device_t_ms": i * 200, "mso": 60, "train": 1 + i // 30,
             "distance_mm": 0.8, "angle_deg": 0.5, "on_target": 1}
            for i in range(1, min(pulse_rows, delivered) + 1)
        )
    t = started
    for kind, code, detail in events:
        t += timedelta(seconds=20)
        _event(db, session, t, kind, code, detail)
    ended = started + timedelta(minutes=3, seconds=12)
    db.execute(
        "UPDATE sessions SET status = ?, end_reason = ?, ended_at = ?, pulses_delivered = ?, "
        "pulses_recorded = ?, trains_delivered = ?, duration_s = ? WHERE id = ?",
        (status, end_reason, iso(ended), delivered, delivered, delivered // 30, 192.0, session),
    )
    for kind, code, detail in after_end:
        ended += timedelta(seconds=30)
        _event(db, session, ended, kind, code, detail)
    _event(db, session, ended, "end", status, None)
    db.conn.commit()
    return session


def _event(db: sqlite_utils.Database, session: int, at: datetime, kind: str, code: str | None,
           detail: Any) -> None:
    db["session_events"].insert({
        "session_id": session, "at": iso(at), "kind": kind, "code": code,
        "detail": json.dumps(detail) if isinstance(detail, dict | list) else detail,
        "by_user": "jrivera",
    })


def set_setting(db: sqlite_utils.Database, key: str, value: Any) -> None:
    """A clinic setting, as the settings table stores it (key -> JSON value)."""
    db["settings"].upsert({"key": key, "value": json.dumps(value), "changed_at": iso(START),
                           "changed_by": "admin"}, pk="key")


def add_phq9(db: sqlite_utils.Database, patient: int, course: int, taken: datetime, items: list[int]) -> None:
    db["outcomes"].insert({
        "patient_id": patient, "course_id": course, "instrument": "PHQ-9", "total": sum(items),
        "items": json.dumps(items), "taken_at": iso(taken), "entered_by": "jrivera",
    })


# As console.session.entries.add_checklist stores it.
CHECKLIST = {"answers": [
    {"id": "metal_removed", "question": "All metal removed?", "answer": "yes", "note": ""},
    {"id": "medication_change", "question": "Any change in medication?", "answer": "yes",
     "note": "Sertraline raised to 100 mg on Friday"},
    {"id": "sleep_change", "question": "Sleep much less or more?", "answer": "no", "note": ""},
    {"id": "alcohol_drugs", "question": "Alcohol or drugs in the last 24 hours?", "answer": "no", "note": ""},
    {"id": "ear_protection", "question": "Ear protection in place?", "answer": "yes", "note": ""},
]}
OBSERVATION = {
    "mood": "Tired",
    "patient_said": "I went for a walk with my sister on Sunday, first time in weeks.",
    "technician_saw": "Quiet at first, chatted more towards the end; "
                      "rubbed the left temple after the session.",
    "wants_to_work_on": "Getting back to the Tuesday choir",
}


def typical(path: Path) -> Recorded:
    """Session 12 of 36, an acute iTBS course, one pause, two mild side effects, four PHQ-9s."""
    db = make_db(path)
    patient, course = add_patient_and_course(db)
    set_setting(db, "clinic_name", "Riverside TMS Clinic")
    set_setting(db, "clinic_phone", "555-0142")
    set_setting(db, "supervising_physician", "Dr. Priya Natarajan")
    earlier = []
    for n in range(1, 12):
        day = START - timedelta(days=16) + timedelta(days=n + 2 * ((n - 1) // 5))
        earlier.append(record_session(db, patient, course, number=n, started=day, pulse_rows=3))
    weeks = [(START - timedelta(days=16), [3, 3, 2, 3, 2, 2, 1, 2, 1]),
             (START - timedelta(days=9), [2, 3, 2, 2, 2, 2, 1, 1, 0]),
             (START - timedelta(days=2), [2, 2, 1, 2, 1, 1, 1, 1, 0]),
             (START - timedelta(hours=1), [2, 2, 1, 1, 1, 2, 1, 1, 0])]
    for taken, items in weeks:
        add_phq9(db, patient, course, taken, items)
    session = record_session(
        db, patient, course, number=12, started=START,
        events=[
            ("checklist", None, CHECKLIST),
            ("pause", None, {"source": "console", "reason": "Patient asked to pause"}),
            ("resume", None, {"source": "console"}),
            ("side_effect", "headache", {"rating": 3, "note": "mild, left side"}),
            ("side_effect", "scalp_discomfort", {"rating": 2}),
        ],
        after_end=[("observation", None, OBSERVATION)],
    )
    return Recorded(db, patient, course, session, earlier)
