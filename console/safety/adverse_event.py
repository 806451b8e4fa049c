"""Seizure or other adverse event during a session: the record, and the clinic's first-aid steps.

Stopping the run is the session engine's job (the technician screen calls it
the moment the key is pressed); this module keeps what happened: when (the
moment the key was pressed, unless the technician corrects it), what kind,
what was seen and what was done. The event is its own append-only record
and is copied into the session's event log, so the session review shows it
in order. The first-aid text is the clinic's (``resources/first_aid.json``),
shown as written with its source; the program adds no advice of its own. The
kinds the clinic lists as ``course_hold_kinds`` (a seizure) put the course on
hold until a physician has signed a review of the event (issue 14, item 8).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlite_utils

from console.audit import audit, write_transaction
from console.clinic.physician_holds import holds_lifted, lift_hold
from console.errors import ClinicError
from console.people.permissions import require
from console.resource_data import load as load_json
from db.database import inserted_id, new_uuid, to_utc_iso, utc_now

if TYPE_CHECKING:
    from console.people.user import User

log = logging.getLogger(__name__)

FIRST_AID_FILE = "first_aid.json"


class AdverseEventError(ClinicError):
    """The adverse event cannot be recorded as given; the message says what to fix."""


def first_aid() -> dict[str, Any]:
    """The clinic's first-aid text: title, steps, kinds of event, emergency contact."""
    return load_json(FIRST_AID_FILE)


def first_aid_steps() -> list[str]:
    """The clinic's first-aid steps, in order, as the clinic wrote them."""
    return [str(step) for step in first_aid()["steps"]]


def event_kinds() -> list[str]:
    return [str(kind) for kind in first_aid().get("kinds", ["seizure", "other"])]


def record_adverse_event(
    db: sqlite_utils.Database,
    user: User,
    patient_id: int,
    kind: str,
    description: str,
    *,
    session_id: int | None = None,
    course_id: int | None = None,
    occurred_at: datetime | str | None = None,
    actions_taken: str | None = None,
) -> int:
    """Keep an adverse event (and a copy in the session's event log); returns its id."""
    require(user, "record_session")
    kind = (kind or "").strip()
    description = (description or "").strip()
    if not kind:
        raise AdverseEventError("Choose what kind of event it was.")
    if not description:
        raise AdverseEventError("Describe what happened: it is kept with the patient's record.")
    if db.execute("SELECT 1 FROM patients WHERE id = ?", [patient_id]).fetchone() is None:
        raise AdverseEventError(f"There is no patient {patient_id}.")
    if session_id is not None:
        row = db.execute("SELECT patient_id, course_id FROM sessions WHERE id = ?", [session_id]).fetchone()
        if row is None or row[0] != patient_id:
            raise AdverseEventError(f"Session {session_id} is not a session of this patient.")
        course_id = course_id if course_id is not None else row[1]
    try:
        occurred = utc_now() if occurred_at is None else to_utc_iso(occurred_at)
    except ValueError as exc:
        raise AdverseEventError(str(exc)) from None
    values = {
        "uuid": new_uuid(),
        "patient_id": patient_id,
        "course_id": course_id,
        "session_id": session_id,
        "kind": kind,
        "occurred_at": occurred,
        "description": description,
        "actions_taken": (actions_taken or "").strip() or None,
        "by_user": user.username,
        "recorded_at": utc_now(),
    }
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO adverse_events (uuid, patient_id, course_id, session_id, kind, occurred_at, "
            "description, actions_taken, by_user, recorded_at) VALUES (:uuid, :patient_id, :course_id, "
            ":session_id, :kind, :occurred_at, :description, :actions_taken, :by_user, :recorded_at)",
            values,
        )
        event_id = inserted_id(cursor)
        if session_id is not None:
            db.execute(
                "INSERT INTO session_events (session_id, at, kind, code, detail, by_user) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    session_id,
                    occurred,
                    "adverse_event",
                    kind,
                    json.dumps(
                        {
                            "adverse_event_id": event_id,
                            "description": description,
                            "actions_taken": values["actions_taken"],
                        },
                        ensure_ascii=False,
                    ),
                    user.username,
                ],
            )
        audit(db, user, "record_adverse_event", "adverse_event", event_id, None, values)
    log.warning("adverse event %d (%s) recorded for session %s", event_id, kind, session_id)
    return event_id


def adverse_events(
    db: sqlite_utils.Database, *, patient_id: int | None = None, session_id: int | None = None
) -> list[dict[str, Any]]:
    """Adverse events of a patient or a session, oldest first."""
    where, params = [], []
    if patient_id is not None:
        where.append("patient_id = ?")
        params.append(patient_id)
    if session_id is not None:
        where.append("session_id = ?")
        params.append(session_id)
    sql = (
        "SELECT id, patient_id, course_id, session_id, kind, occurred_at, description, actions_taken, "
        "by_user, recorded_at FROM adverse_events"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    cols = (
        "id",
        "patient_id",
        "course_id",
        "session_id",
        "kind",
        "occurred_at",
        "description",
        "actions_taken",
        "by_user",
        "recorded_at",
    )
    return [dict(zip(cols, r, strict=True)) for r in db.execute(sql + " ORDER BY occurred_at, id", params)]


def first_aid_steps_for(kind: str | None) -> list[str]:
    """The clinic's steps for this kind of event (``steps_by_kind``), as the clinic wrote them;
    the general steps when no kind is chosen yet or the clinic wrote none for it."""
    aid = first_aid()
    steps = aid.get("steps_by_kind", {}).get(kind or "")
    return [str(step) for step in (steps or aid["steps"])]


def course_hold_kinds() -> list[str]:
    """The kinds of event that put the course on hold until a physician reviews them (the
    clinic's list, ``course_hold_kinds``; a seizure when the file names none)."""
    return [str(k) for k in first_aid().get("course_hold_kinds", ["seizure"])]


def first_aid_source(kind: str | None) -> str:
    """Where the steps shown for ``kind`` come from, as the clinic wrote it ("unverified" if unsaid)."""
    sources = first_aid().get("sources", {})
    return str(sources.get(kind or "", sources.get("steps", "unverified")))


def events_on_hold(db: sqlite_utils.Database, patient_id: int, course_id: int | None) -> list[dict[str, Any]]:
    """The patient's events that hold the course (a seizure, by default) and that no physician has
    reviewed yet, oldest first: events of this course, and events kept without a course."""
    kinds = {k.casefold() for k in course_hold_kinds()}
    reviewed = {h.subject_id for h in holds_lifted(db, "seizure", patient_id=patient_id)}
    return [
        e for e in adverse_events(db, patient_id=patient_id)
        if e["kind"].casefold() in kinds and e["id"] not in reviewed
        and (e["course_id"] is None or e["course_id"] == course_id)
    ]


def hold_message(event: dict[str, Any]) -> str:
    """The start gate's words for an event that holds the course."""
    day = datetime.fromisoformat(event["occurred_at"]).astimezone().strftime("%Y-%m-%d %H:%M")
    return (f"The course is on hold: a {event['kind']} on {day} has not been reviewed by a physician. "
            "No session until a physician has reviewed it.")


def review_event(
    db: sqlite_utils.Database, physician: User, password: str, event_id: int, decision: str
) -> int:
    """A physician's signed review of an event that holds the course, with the decision (go on,
    change the prescription, stop the course); lifts the hold. Returns the review's id."""
    rows = adverse_events(db)
    event = next((e for e in rows if e["id"] == event_id), None)
    if event is None:
        raise AdverseEventError("There is no such adverse event.")
    if event["kind"].casefold() not in {k.casefold() for k in course_hold_kinds()}:
        raise AdverseEventError("This event does not hold the course: there is nothing to review.")
    if holds_lifted(db, "seizure", patient_id=event["patient_id"], subject_id=event_id):
        raise AdverseEventError("A physician has already reviewed this event.")
    return lift_hold(db, physician, password, "seizure", event["patient_id"], event["course_id"], event_id,
                     decision)
