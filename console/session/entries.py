"""What the technician adds to a session's record outside the device's stream:
the pre-session checklist, side effects reported after the run, and the
technician's observations of the patient.

Each is one append-only ``session_events`` row (kind ``checklist``,
``side_effect`` or ``observation``) with who wrote it, plus an audit row, in
one transaction. They may be added to a session that has ended: the session
row is append-only, its events table takes new rows and never changes one.
During the run, notes and side effects go through the SessionRunner instead,
so they sit in order with the device's events.

Observations keep the patient's own words (``patient_said``) apart from what
the technician saw (``technician_saw``); neither is reworded here.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import sqlite_utils

from console.audit import audit, write_transaction
from console.errors import ClinicError
from console.people.permissions import require
from console.people.user import User
from console.review.signoff import is_signed
from console.safety.checklist_holds import clean_answers
from console.session.live_entries import side_effect_detail
from console.session.recording_terms import InvalidAction
from db.database import inserted_id, utc_now

log = logging.getLogger(__name__)

OBSERVATION_FIELDS = ("mood", "patient_said", "technician_saw", "wants_to_work_on")


def _session_exists(db: sqlite_utils.Database, session_id: int) -> None:
    if db.execute("SELECT 1 FROM sessions WHERE id = ?", [session_id]).fetchone() is None:
        raise ClinicError(f"There is no session {session_id}.")
    if is_signed(db, session_id):
        raise ClinicError(f"Session {session_id} has been signed and is locked: "
                          "add an addendum instead.")


def _append(db: sqlite_utils.Database, user: User, session_id: int, kind: str, code: str | None,
            detail: Mapping[str, Any]) -> int:
    require(user, "record_session")
    _session_exists(db, session_id)
    row = {"session_id": session_id, "at": utc_now(), "kind": kind, "code": code,
           "detail": json.dumps(dict(detail), sort_keys=True, ensure_ascii=False), "by_user": user.username}
    with write_transaction(db):
        event_id = inserted_id(db.execute(
            "INSERT INTO session_events (session_id, at, kind, code, detail, by_user) "
            "VALUES (:session_id, :at, :kind, :code, :detail, :by_user)", row))
        audit(db, user, f"add_{kind}", "session", session_id, None, {**row, "detail": dict(detail)})
    log.info("session %s: %s added by %s", session_id, kind, user.username)
    return event_id


def add_checklist(db: sqlite_utils.Database, user: User, session_id: int,
                  answers: Sequence[Mapping[str, str]]) -> int:
    """The pre-session checklist as answered: a list of {id, question, answer, note}."""
    return _append(db, user, session_id, "checklist", None, {"answers": clean_answers(answers)})


def add_side_effect(db: sqlite_utils.Database, user: User, session_id: int, kind: str, rating: int,
                    note: str | None = None) -> int:
    """A side effect the patient reported, rated 0 (none) to 10 (worst); ``kind`` is e.g. headache.

    The same rule as a side effect noted during the run (:func:`side_effect_detail`)."""
    try:
        kind, detail = side_effect_detail(kind, rating, note)
    except InvalidAction as exc:
        message = str(exc)
        raise ClinicError(f"{message[:1].upper()}{message[1:]}.") from None
    return _append(db, user, session_id, "side_effect", kind, detail)


def add_observation(db: sqlite_utils.Database, user: User, session_id: int, *, mood: str = "",
                    patient_said: str = "", technician_saw: str = "", wants_to_work_on: str = "") -> int:
    """How the patient seemed and what they said, kept apart; at least one field filled."""
    detail = {
        "mood": mood.strip(),
        "patient_said": patient_said.strip(),
        "technician_saw": technician_saw.strip(),
        "wants_to_work_on": wants_to_work_on.strip(),
    }
    detail = {k: v for k, v in detail.items() if v}
    if not detail:
        raise ClinicError("The observation is empty.")
    return _append(db, user, session_id, "observation", None, detail)


def session_events(db: sqlite_utils.Database, session_id: int, kinds: Sequence[str]) -> list[dict[str, Any]]:
    """The session's events of these kinds, in order, with ``detail`` decoded."""
    marks = ",".join("?" for _ in kinds)
    rows = db.query(
        f"SELECT * FROM session_events WHERE session_id = ? AND kind IN ({marks}) ORDER BY id",
        [session_id, *kinds],
    )
    out = []
    for row in rows:
        with contextlib.suppress(ValueError):  # undecodable detail is kept as the text it is
            row["detail"] = json.loads(row["detail"]) if row["detail"] else None
        out.append(row)
    return out
