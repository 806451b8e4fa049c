"""The TMS safety screening before a course, and what blocks the course from starting.

The questionnaire is the clinic's data (``resources/screening_questionnaire.json``,
after Rossi et al. 2009 / 2011): its items, and which of them the clinic
configures as absolute contraindications. A "yes" to one of those blocks the
course until a supervisor records a signed clearance with the reason; any
other "yes" needs a note. Screenings are kept as answered (append-only): a
correction is a new screening, and the latest one counts.
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


@dataclass(frozen=True)
class Questionnaire:
    version: str
    source: str
    items: tuple[Item, ...]
    valid_for_days: int | None = None

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
    def needs_clearance(self) -> bool:
        return bool(self.contraindications)


def load_questionnaire() -> Questionnaire:
    """The clinic's questionnaire; a mistake in the file is named plainly."""
    try:
        data = load_json(QUESTIONNAIRE_FILE)
        items = tuple(
            Item(str(i["id"]), str(i["text"]), bool(i.get("absolute_contraindication", False)))
            for i in data["items"]
        )
        valid = data.get("valid_for_days")
        questionnaire = Questionnaire(
            str(data.get("version", "")),
            str(data.get("source", "")),
            items,
            int(valid) if valid is not None else None,
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


def latest_screening(
    db: sqlite_utils.Database, patient_id: int, *, questionnaire: Questionnaire | None = None
) -> ScreeningResult | None:
    """The screening that counts (the latest), or None."""
    row = db.execute(
        f"SELECT {_COLUMNS} FROM screenings WHERE patient_id = ? ORDER BY at DESC, id DESC LIMIT 1",
        [patient_id],
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


def course_start_blockers(
    db: sqlite_utils.Database, patient_id: int, *, today: date | None = None
) -> list[str]:
    """Why this patient's course may not start (empty = nothing in the screening blocks it):
    no screening, an absolute contraindication without a signed clearance, a
    "yes" without a note, a question added since the screening, an expired screening."""
    q = load_questionnaire()
    s = latest_screening(db, patient_id, questionnaire=q)
    if s is None:
        return ["No safety screening has been recorded for this patient."]
    blockers = []
    cleared = _cleared_items(db, s.id)
    for item_id in s.contraindications:
        if item_id not in cleared:
            blockers.append(
                f'Absolute contraindication answered yes: "{_item_text(q, item_id)}" — '
                "a supervisor's signed clearance is needed."
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
    if q.valid_for_days is not None:
        screened = datetime.fromisoformat(s.at).astimezone().date()
        age = ((today or date.today()) - screened).days
        if age > q.valid_for_days:
            blockers.append(
                f"The safety screening of {screened.isoformat()} is {age} days old; the clinic "
                f"asks for one within {q.valid_for_days} days: screen again."
            )
    return blockers


def record_clearance(
    db: sqlite_utils.Database, supervisor: User, password: str, patient_id: int, reason: str
) -> int:
    """A supervisor's signed clearance of the latest screening's absolute contraindications.

    The supervisor re-authenticates; the clearance names the screening and its
    items, keeps the reason, and is audited. Returns the clearance id.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ScreeningError("Give the reason for the clearance: it is kept with the patient's record.")
    q = load_questionnaire()
    s = latest_screening(db, patient_id, questionnaire=q)
    if s is None:
        raise ScreeningError("There is no screening to clear: record the safety screening first.")
    pending = [i for i in s.contraindications if i not in _cleared_items(db, s.id)]
    if not pending:
        raise ScreeningError("The latest screening has no absolute contraindication waiting for clearance.")
    signer = confirm_signer(db, supervisor, password, "override_safety")
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
    log.info("clearance %d of screening %d signed by %s", clearance_id, s.id, signer.username)
    return clearance_id


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
