"""The pre-session checklist as answered, kept before the session exists, and the holds it makes.

Issue 14, items 4 and 10: an answer the clinic sends to a physician (``physician_on`` in
resources/checklist.json: a new seizure, fall or head injury, a new implant, a possible
pregnancy, thoughts of self-harm) stopped the session at the chair and nothing more: the next
try, or tomorrow's, began as if nothing had been said. Now the checklist is kept the moment
the technician finishes it, and each such answer holds the course until a physician signs a
review of it (``console.clinic.physician_holds``), at the chair and in ``record`` alike through
the start gate. A medication change answered here counts at once for the motor-threshold rule
(``console.clinic.motor_threshold.medication_change_after`` reads these rows too), so it holds
this session, not only the next.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from console.audit import audit, write_transaction
from console.clinic.physician_holds import holds_lifted, lift_hold
from console.errors import ClinicError
from console.people.permissions import require
from console.people.user import User
from console.resource_data.lists import checklist_items
from db.database import inserted_id, new_uuid, utc_now

log = logging.getLogger(__name__)

HOLD_KIND = "checklist"
"""The kind of hold a physician lifts (console.clinic.physician_holds.KINDS)."""


@dataclass(frozen=True)
class HeldAnswer:
    """One answer that sent the patient to a physician, as it was given."""

    item_id: str
    question: str
    answer: str
    note: str


@dataclass(frozen=True)
class KeptChecklist:
    id: int
    at: str
    by_user: str
    holds: tuple[HeldAnswer, ...]


def clean_answers(answers: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The checklist as answered, checked: every item answered yes or no, each with its id,
    question and note. The one check for a checklist, kept before the session exists (here) and
    with the session's record (console.session.entries.add_checklist)."""
    clean = []
    for a in answers:
        answer = str(a.get("answer", "")).strip().lower()
        if answer not in ("yes", "no"):
            raise ClinicError(f"Checklist item {a.get('id')!r} is not answered yes or no.")
        clean.append({"id": str(a.get("id", "")), "question": str(a.get("question", "")), "answer": answer,
                      "note": str(a.get("note", "") or "").strip()})
    if not clean:
        raise ClinicError("The checklist has no answers.")
    return clean


def keep_checklist(
    db: sqlite_utils.Database, user: User, patient_id: int, course_id: int | None,
    answers: list[dict[str, Any]],
) -> KeptChecklist:
    """Keep the checklist as answered (append-only, audited) and say which answers hold the course.

    The holds are worked out now, from the clinic's checklist as it is now, and kept with the
    answers, so a later edit of the checklist cannot lift or add a hold after the fact.
    """
    require(user, "record_session")
    clean = clean_answers(answers)
    physician_on = {item["id"]: set(item.get("physician_on", [])) for item in checklist_items()}
    holds = [a["id"] for a in clean if a["answer"] in physician_on.get(a["id"], set())]
    at = utc_now()
    row = {"uuid": new_uuid(), "patient_id": patient_id, "course_id": course_id, "at": at,
           "by_user": user.username, "answers": json.dumps(clean), "holds": json.dumps(holds)}
    with write_transaction(db):
        checklist_id = inserted_id(db.execute(
            "INSERT INTO pre_session_checklists (uuid, patient_id, course_id, at, by_user, answers, holds) "
            "VALUES (:uuid, :patient_id, :course_id, :at, :by_user, :answers, :holds)", row))
        audit(db, user, "keep_checklist", "checklist", checklist_id, None, row)
    if holds:
        log.info("checklist %s holds course %s for a physician: %s", checklist_id, course_id, holds)
    return _kept(checklist_id, at, user.username, clean, holds)


def _kept(
    checklist_id: int, at: str, by_user: str, answers: list[dict[str, str]], holds: list[str],
) -> KeptChecklist:
    by_id = {a["id"]: a for a in answers}
    held = tuple(HeldAnswer(h, by_id[h]["question"], by_id[h]["answer"], by_id[h]["note"])
                 for h in holds if h in by_id)
    return KeptChecklist(checklist_id, at, by_user, held)


def checklists_on_hold(
    db: sqlite_utils.Database, patient_id: int, course_id: int | None,
) -> list[KeptChecklist]:
    """The patient's checklists with an answer that holds the course and no physician's review yet,
    oldest first: this course's, and those kept without a course."""
    reviewed = {h.subject_id for h in holds_lifted(db, HOLD_KIND, patient_id=patient_id)}
    rows = db.execute(
        "SELECT id, at, by_user, answers, holds, course_id FROM pre_session_checklists "
        "WHERE patient_id = ? AND holds != '[]' ORDER BY at, id", [patient_id]).fetchall()
    return [_kept(int(i), at, by, json.loads(answers), json.loads(holds))
            for i, at, by, answers, holds, course in rows
            if i not in reviewed and (course is None or course == course_id)]


def hold_message(kept: KeptChecklist) -> str:
    """The start gate's words: what was answered, when and by whom, and what it takes."""
    day = datetime.fromisoformat(kept.at).astimezone().strftime("%Y-%m-%d %H:%M")
    said = "; ".join(f"“{h.question}” {h.answer}" + (f" ({h.note})" if h.note else "") for h in kept.holds)
    return (f"The course is on hold: at the checklist on {day} ({kept.by_user}) {said}. No session until a "
            "physician has reviewed it.")


def review_checklist(
    db: sqlite_utils.Database, physician: User, password: str, checklist_id: int, decision: str,
) -> int:
    """A physician's signed review of a checklist that holds the course, with the decision; lifts
    the hold. Returns the review's id (ClinicError: nothing to review, already reviewed, refused)."""
    row = db.execute("SELECT patient_id, course_id, holds FROM pre_session_checklists WHERE id = ?",
                     [checklist_id]).fetchone()
    if row is None or row[2] == "[]":
        raise ClinicError("This checklist holds nothing: there is nothing to review.")
    if holds_lifted(db, HOLD_KIND, patient_id=row[0], subject_id=checklist_id):
        raise ClinicError("A physician has already reviewed this checklist.")
    return lift_hold(db, physician, password, HOLD_KIND, row[0], row[1], checklist_id, decision)
