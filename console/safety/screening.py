"""The TMS safety screening before a course, and what blocks the course from starting.

The questionnaire is the clinic's data (``resources/screening_questionnaire.json``,
Rossi et al. 2009 §7.5 as revised by Rossi et al. 2011), with the items the
clinic adds of its own. Every "yes" blocks the course until a physician signs
a review of it: Rossi 2011 asks for the treating physician's risk/benefit
decision on each one (issue 14, item 4); the items the clinic lists as
absolute contraindications say so in their wording. A "yes" also needs a note.

A screening is per course: it counts for the course it was recorded for, or,
recorded for no course, for the patient's next course (never for a course
opened before an earlier screening's course). It ends when the pre-session
checklist records a "yes" to a question the questionnaire names in
``expires_on_checklist_yes`` (a new implant, a change of medication): the
program keeps no other record of implant or medication changes, so that answer
at the checklist, after the screening, means "screen again"; a newer screening
supersedes. Screenings are kept as answered (append-only): a correction is a
new screening, and the latest one counts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlite_utils

from console.audit import audit, write_transaction
from console.errors import ClinicError
from console.people.permissions import require
from console.people.signing import confirm_signer
from console.resource_data import load as load_json
from db.database import inserted_id, new_uuid, utc_now

if TYPE_CHECKING:
    from console.people.user import User

log = logging.getLogger(__name__)

QUESTIONNAIRE_FILE = "screening_questionnaire.json"


class ScreeningError(ClinicError):
    """The screening cannot be recorded as given; the message says what to fix."""


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    absolute_contraindication: bool
    clinic_added: bool = False
    """An item the clinic added (``clinic_items``), not one of the source's."""


@dataclass(frozen=True)
class Questionnaire:
    version: str
    source: str
    items: tuple[Item, ...]
    valid_for_days: int | None = None
    expires_on_checklist_yes: tuple[str, ...] = ()
    """Checklist item ids whose "yes" after a screening ends it (new implant, medication change)."""

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)


class Answer(NamedTuple):
    answer: str  # "yes" or "no"
    note: str | None


@dataclass(frozen=True)
class ScreeningResult:
    id: int
    patient_id: int
    at: str
    by_user: str
    questionnaire_version: str
    answers: dict[str, Answer]
    contraindications: list[str] = field(default_factory=list)
    """Item ids answered "yes" that were configured absolute contraindications when answered."""
    missing_notes: list[str] = field(default_factory=list)
    """Item ids answered "yes" (not absolute) without a note."""
    notes: str | None = None

    @property
    def yes_items(self) -> list[str]:
        """Every item answered "yes": each needs a physician's signed review."""
        return [item_id for item_id, a in self.answers.items() if a.answer == "yes"]

    @property
    def needs_clearance(self) -> bool:
        """Whether a physician must sign a review before the course starts (any "yes")."""
        return bool(self.yes_items)


def _items(raw: Any, *, clinic_added: bool) -> tuple[Item, ...]:
    return tuple(
        Item(str(i["id"]), str(i["text"]), bool(i.get("absolute_contraindication", False)), clinic_added)
        for i in raw
    )


def load_questionnaire() -> Questionnaire:
    """The clinic's questionnaire (the source's items, then the clinic's own); a mistake in the
    file is named plainly."""
    try:
        data = load_json(QUESTIONNAIRE_FILE)
        items = _items(data["items"], clinic_added=False) + _items(
            data.get("clinic_items", []), clinic_added=True)
        valid = data.get("valid_for_days")
        questionnaire = Questionnaire(
            str(data.get("version", "")),
            str(data.get("source", "")),
            items,
            int(valid) if valid is not None else None,
            tuple(str(i) for i in data.get("expires_on_checklist_yes", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ScreeningError(f"{QUESTIONNAIRE_FILE} cannot be used: {exc}") from None
    ids = [i.id for i in items]
    if not items or len(set(ids)) != len(ids):
        raise ScreeningError(
            f"{QUESTIONNAIRE_FILE} cannot be used: items must be present and their ids unique."
        )
    return questionnaire


def _yes_no(value: Any, item: Item) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.strip().lower() in ("yes", "no"):
        return value.strip().lower()
    raise ScreeningError(f'Answer yes or no to "{item.text}".')


def _patient_exists(db: sqlite_utils.Database, patient_id: int) -> None:
    if db.execute("SELECT 1 FROM patients WHERE id = ?", [patient_id]).fetchone() is None:
        raise ScreeningError(f"There is no patient {patient_id}.")


def record_screening(
    db: sqlite_utils.Database,
    user: User,
    patient_id: int,
    answers: Mapping[str, bool | str],
    notes: Mapping[str, str] | None = None,
    *,
    general_note: str | None = None,
    course_id: int | None = None,
    questionnaire: Questionnaire | None = None,
) -> ScreeningResult:
    """Store a screening as answered: ``answers`` item id -> yes/no (bool or text),
    ``notes`` item id -> the note for that answer.

    Every item must be answered. A "yes" without a note is stored as answered
    (it is what the patient said) and blocks the course until a new screening
    adds the note; the screening dialog asks for the note before saving.
    """
    require(user, "record_screening")
    q = questionnaire or load_questionnaire()
    notes = dict(notes or {})
    unknown = sorted(set(answers) - {i.id for i in q.items})
    if unknown:
        raise ScreeningError(f"The questionnaire has no item {unknown[0]!r}.")
    missing = [i for i in q.items if i.id not in answers or answers[i.id] is None]
    if missing:
        raise ScreeningError(
            f'Every question needs an answer; not answered: "{missing[0].text}"'
            + (f" and {len(missing) - 1} more." if len(missing) > 1 else ".")
        )
    _patient_exists(db, patient_id)
    if course_id is None:  # screened while a course is open: it is that course's screening
        open_course = db.execute(
            "SELECT id FROM courses WHERE patient_id = ? AND status = 'open' ORDER BY id DESC LIMIT 1",
            [patient_id]).fetchone()
        course_id = open_course[0] if open_course else None
    stored: dict[str, Answer] = {}
    for item in q.items:
        note = (notes.get(item.id) or "").strip() or None
        stored[item.id] = Answer(_yes_no(answers[item.id], item), note)
    contraindications = [
        i.id for i in q.items if i.absolute_contraindication and stored[i.id].answer == "yes"
    ]
    row = {
        "uuid": new_uuid(),
        "patient_id": patient_id,
        "course_id": course_id,
        "questionnaire_version": q.version,
        "answers": json.dumps({k: a._asdict() for k, a in stored.items()}, ensure_ascii=False),
        "contraindications": json.dumps(contraindications),
        "notes": (general_note or "").strip() or None,
        "by_user": user.username,
        "at": utc_now(),
    }
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO screenings (uuid, patient_id, course_id, questionnaire_version, answers, "
            "contraindications, notes, by_user, at) VALUES (:uuid, :patient_id, :course_id, "
            ":questionnaire_version, :answers, :contraindications, :notes, :by_user, :at)",
            row,
        )
        screening_id = inserted_id(cursor)
        audit(
            db,
            user,
            "record_screening",
            "screening",
            screening_id,
            None,
            {
                **row,
                "answers": {k: a._asdict() for k, a in stored.items()},
                "contraindications": contraindications,
            },
        )
    log.info(
        "screening %d recorded for patient %d (%d absolute contraindication(s))",
        screening_id,
        patient_id,
        len(contraindications),
    )
    return get_screening(db, screening_id, questionnaire=q)


def _course_window(
    db: sqlite_utils.Database, patient_id: int, course_id: int | None
) -> tuple[int | None, str | None]:
    """(the course the screening is for, the time after which an unlinked screening counts for it).

    ``course_id`` None means the patient's open course, else their next course."""
    if course_id is None:
        row = db.execute("SELECT id FROM courses WHERE patient_id = ? AND status = 'open' "
                         "ORDER BY id DESC LIMIT 1", [patient_id]).fetchone()
        course_id = row[0] if row else None
    if course_id is None:
        row = db.execute("SELECT max(opened_at) FROM courses WHERE patient_id = ?", [patient_id]).fetchone()
        return None, row[0] if row else None
    row = db.execute(
        "SELECT max(opened_at) FROM courses WHERE patient_id = ? AND id != ? AND opened_at < "
        "(SELECT opened_at FROM courses WHERE id = ?)", [patient_id, course_id, course_id]).fetchone()
    return course_id, row[0] if row else None


def latest_screening(
    db: sqlite_utils.Database, patient_id: int, *, questionnaire: Questionnaire | None = None,
    course_id: int | None = None,
) -> ScreeningResult | None:
    """The screening that counts for the course (``course_id``; None: the open course, else the
    next one): the latest recorded for it, or for no course since the patient's previous course
    opened. A screening of another course never counts (a screening is per course)."""
    course_id, after = _course_window(db, patient_id, course_id)
    row = db.execute(
        f"SELECT {_COLUMNS} FROM screenings WHERE patient_id = ? AND "
        "((course_id IS NOT NULL AND course_id = ?) OR (course_id IS NULL AND (? IS NULL OR at > ?))) "
        "ORDER BY at DESC, id DESC LIMIT 1",
        [patient_id, course_id, after, after],
    ).fetchone()
    return None if row is None else _result(row, questionnaire or load_questionnaire())


def get_screening(
    db: sqlite_utils.Database, screening_id: int, *, questionnaire: Questionnaire | None = None
) -> ScreeningResult:
    row = db.execute(f"SELECT {_COLUMNS} FROM screenings WHERE id = ?", [screening_id]).fetchone()
    if row is None:
        raise ScreeningError(f"There is no screening {screening_id}.")
    return _result(row, questionnaire or load_questionnaire())


_COLUMNS = "id, patient_id, at, by_user, questionnaire_version, answers, contraindications, notes"


def _result(row: tuple, q: Questionnaire) -> ScreeningResult:
    answers = {k: Answer(v["answer"], v.get("note")) for k, v in json.loads(row[5]).items()}
    contraindications = list(json.loads(row[6]))
    missing_notes = []
    for item_id, a in answers.items():
        item = q.item(item_id)
        if (
            a.answer == "yes"
            and not a.note
            and item_id not in contraindications
            and not (item and item.absolute_contraindication)
        ):
            missing_notes.append(item_id)
    return ScreeningResult(
        row[0], row[1], row[2], row[3], row[4], answers, contraindications, missing_notes, row[7]
    )


def _cleared_items(db: sqlite_utils.Database, screening_id: int) -> set[str]:
    cleared: set[str] = set()
    for (items,) in db.execute("SELECT items FROM clearances WHERE screening_id = ?", [screening_id]):
        cleared.update(json.loads(items))
    return cleared


def _item_text(q: Questionnaire, item_id: str) -> str:
    item = q.item(item_id)
    return item.text if item else item_id


REVIEW_PHRASE = "a physician's signed review"
"""In every blocker that waits for the physician's review (so a screen can offer that review)."""


def awaiting_review(db: sqlite_utils.Database, patient_id: int, *, course_id: int | None = None) -> list[str]:
    """The item ids answered "yes" in the screening that counts, not yet reviewed by a physician."""
    s = latest_screening(db, patient_id, course_id=course_id)
    if s is None:
        return []
    cleared = _cleared_items(db, s.id)
    return [item_id for item_id in s.yes_items if item_id not in cleared]


@dataclass(frozen=True)
class ReviewItem:
    """One "yes" waiting for the physician: the question, the note taken with it, and whether
    the clinic lists it as an absolute contraindication."""

    item_id: str
    question: str
    note: str | None
    absolute: bool


def review_items(
    db: sqlite_utils.Database, patient_id: int, *, course_id: int | None = None
) -> tuple[ScreeningResult | None, list[ReviewItem]]:
    """The screening that counts and its "yes" answers not yet reviewed, for the review form."""
    q = load_questionnaire()
    s = latest_screening(db, patient_id, questionnaire=q, course_id=course_id)
    if s is None:
        return None, []
    cleared = _cleared_items(db, s.id)
    out = []
    for item_id in s.yes_items:
        if item_id not in cleared:
            item = q.item(item_id)
            absolute = item_id in s.contraindications or bool(item and item.absolute_contraindication)
            out.append(ReviewItem(item_id, _item_text(q, item_id), s.answers[item_id].note, absolute))
    return s, out


def _changes_since(
    db: sqlite_utils.Database, patient_id: int, since: str, q: Questionnaire
) -> list[tuple[str, str]]:
    """(date, question) of each checklist "yes", after ``since``, to a question that ends a screening."""
    if not q.expires_on_checklist_yes:
        return []
    found = []
    rows = db.execute(
        "SELECT e.at, e.detail FROM session_events e JOIN sessions s ON s.id = e.session_id "
        "WHERE s.patient_id = ? AND e.kind = 'checklist' AND e.at > ? ORDER BY e.at, e.id",
        [patient_id, since],
    )
    for at, detail in rows:
        for answer in json.loads(detail or "{}").get("answers", []):
            if answer.get("id") in q.expires_on_checklist_yes and answer.get("answer") == "yes":
                found.append((datetime.fromisoformat(at).astimezone().date().isoformat(),
                              str(answer.get("question") or answer.get("id"))))
    return found


def start_blockers(
    db: sqlite_utils.Database, patient_id: int, *, today: date | None = None, course_id: int | None = None
) -> list[str]:
    """Why this patient's course (``course_id``; None: the open course, else the next) may not
    start (empty = nothing in the screening blocks it): no screening for the course, a "yes"
    without a physician's signed review, a "yes" without a note, a question added since the
    screening, an expired screening, a new implant or a medication change since it."""
    q = load_questionnaire()
    s = latest_screening(db, patient_id, questionnaire=q, course_id=course_id)
    if s is None:
        return ["No safety screening has been recorded for this course: record one before the first session."]
    blockers = []
    cleared = _cleared_items(db, s.id)
    for item_id in s.yes_items:
        if item_id in cleared:
            continue
        item = q.item(item_id)
        if item_id in s.contraindications or (item and item.absolute_contraindication):
            blockers.append(
                f'Absolute contraindication answered yes: "{_item_text(q, item_id)}" — it blocks the '
                f"course until {REVIEW_PHRASE} clears it."
            )
        else:
            blockers.append(
                f'Answered yes: "{_item_text(q, item_id)}" — {REVIEW_PHRASE} of the risk and benefit is '
                "needed before the course starts."
            )
    for item_id in s.missing_notes:
        blockers.append(
            f'"{_item_text(q, item_id)}" was answered yes without a note: screen again with the note.'
        )
    new_items = [i for i in q.items if i.id not in s.answers]
    for item in new_items:
        blockers.append(
            f'The questionnaire now asks "{item.text}", which this screening did not: screen again.'
        )
    for day, question in _changes_since(db, patient_id, s.at, q):
        blockers.append(
            f'The checklist of {day} recorded yes to "{question}" after the safety screening: a new '
            "implant or a change of medication ends a screening: screen again."
        )
    if q.valid_for_days is not None:
        screened = datetime.fromisoformat(s.at).astimezone().date()
        age = ((today or date.today()) - screened).days
        if age > q.valid_for_days:
            blockers.append(
                f"The safety screening of {screened.isoformat()} is {age} days old; the clinic "
                f"asks for one within {q.valid_for_days} days: screen again."
            )
    return blockers


def course_start_blockers(
    db: sqlite_utils.Database, patient_id: int, *, today: date | None = None, course_id: int | None = None
) -> list[str]:
    """The same as :func:`start_blockers` (the name the screens and the gate know)."""
    return start_blockers(db, patient_id, today=today, course_id=course_id)


def record_clearance(
    db: sqlite_utils.Database, physician: User, password: str, patient_id: int, reason: str,
    *, course_id: int | None = None,
) -> int:
    """A physician's signed review of every "yes" of the screening that counts, with the
    risk/benefit decision (``reason``); absolute contraindications are cleared by it too.

    The physician re-authenticates; the review names the screening and its items, keeps the
    decision, and is audited. Returns its id (a row of ``clearances``).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ScreeningError("Write the risk/benefit decision: it is kept with the patient's record.")
    q = load_questionnaire()
    s = latest_screening(db, patient_id, questionnaire=q, course_id=course_id)
    if s is None:
        raise ScreeningError("There is no screening to review: record the safety screening first.")
    pending = [i for i in s.yes_items if i not in _cleared_items(db, s.id)]
    if not pending:
        raise ScreeningError("The screening has no yes answer waiting for a physician's review.")
    signer = confirm_signer(db, physician, password, "clear_screening",
                            purpose="physician review of a safety screening")
    row = {
        "uuid": new_uuid(),
        "patient_id": patient_id,
        "screening_id": s.id,
        "items": json.dumps(pending),
        "reason": reason,
        "signed_by": signer.username,
        "signer_name": getattr(signer, "full_name", None),
        "signer_role": signer.role,
        "signed_at": utc_now(),
    }
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO clearances (uuid, patient_id, screening_id, items, reason, signed_by, signer_name, "
            "signer_role, signed_at) VALUES (:uuid, :patient_id, :screening_id, :items, :reason, :signed_by, "
            ":signer_name, :signer_role, :signed_at)",
            row,
        )
        clearance_id = inserted_id(cursor)
        audit(
            db,
            signer,
            "clear_contraindication",
            "clearance",
            clearance_id,
            None,
            {**row, "items": pending, "item_texts": [_item_text(q, i) for i in pending]},
        )
    log.info("physician review %d of screening %d signed by %s", clearance_id, s.id, signer.username)
    return clearance_id


record_physician_review = record_clearance
"""The same: the physician's signed review of a screening's "yes" answers."""


def clearances(db: sqlite_utils.Database, patient_id: int) -> list[dict[str, Any]]:
    """Every clearance of the patient, newest first (for the record and the course screen)."""
    rows = db.execute(
        "SELECT id, screening_id, items, reason, signed_by, signer_name, signer_role, signed_at "
        "FROM clearances WHERE patient_id = ? ORDER BY id DESC",
        [patient_id],
    ).fetchall()
    return [
        {
            "id": r[0],
            "screening_id": r[1],
            "items": json.loads(r[2]),
            "reason": r[3],
            "signed_by": r[4],
            "signer_name": r[5],
            "signer_role": r[6],
            "signed_at": r[7],
        }
        for r in rows
    ]
