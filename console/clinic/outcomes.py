"""Outcome measures over a course: PHQ-9 entry, HAM-D / MADRS totals, response and remission.

The PHQ-9 keeps its nine items (0-3 each) and the total is computed here,
never typed. An item 9 answer above 0 (thoughts of being better off dead or
of self-harm) raises a visible prompt for the clinician, in the clinic's
words (``resources/outcomes.json``), and who was told and when is recorded
(:func:`record_item9_notification`) for the handoff note. Response (a drop of
at least 50 % from baseline) and remission (PHQ-9 below 5) follow the clinic's
thresholds in the same file. The program reports; it does not advise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlite_utils

from console.audit import audit, write_transaction
from console.errors import ClinicError
from console.people.permissions import require
from console.resource_data import load as load_json
from db.database import inserted_id, to_utc_iso, utc_now

if TYPE_CHECKING:
    from console.people.user import User

log = logging.getLogger(__name__)

OUTCOMES_FILE = "outcomes.json"
INSTRUMENTS = ("PHQ-9", "HAM-D", "MADRS")


class OutcomeError(ClinicError):
    """An outcome measure cannot be recorded as given; the message says what to fix."""


def texts() -> dict[str, Any]:
    """The clinic's PHQ-9 wording, safety prompt and thresholds."""
    return load_json(OUTCOMES_FILE)


@dataclass(frozen=True)
class Phq9Result:
    id: int
    total: int
    items: tuple[int, ...]
    severity: str
    safety_prompt: bool
    """Item 9 above 0: show :attr:`prompt_text` to the clinician, now."""
    prompt_text: str | None
    taken_at: str


@dataclass(frozen=True)
class OutcomePoint:
    id: int
    taken_at: str
    total: int
    session_id: int | None
    items: tuple[int, ...] | None = None


@dataclass(frozen=True)
class CourseOutcomes:
    """One instrument over a course. ``percent_change`` is negative when scores fell; response and
    remission are None until there is a measurement after the baseline."""

    instrument: str
    baseline: int | None
    latest: int | None
    percent_change: float | None
    response: bool | None
    remission: bool | None
    series: list[OutcomePoint] = field(default_factory=list)
    response_threshold: float | None = None
    """The score at or below which the course counts as a response (50 % of baseline)."""
    remission_at_most: int | None = None


def severity(total: int) -> str:
    for band in texts()["phq9"]["severity_bands"]:
        if total <= band["up_to"]:
            return str(band["label"])
    return ""


def _check_course(db: sqlite_utils.Database, patient_id: int, course_id: int | None) -> None:
    if db.execute("SELECT 1 FROM patients WHERE id = ?", [patient_id]).fetchone() is None:
        raise OutcomeError(f"There is no patient {patient_id}.")
    if course_id is not None:
        row = db.execute("SELECT patient_id FROM courses WHERE id = ?", [course_id]).fetchone()
        if row is None or row[0] != patient_id:
            raise OutcomeError(f"Course {course_id} is not a course of this patient.")


def _taken(taken_at: datetime | str | None) -> str:
    if taken_at is None:
        return utc_now()
    try:
        return to_utc_iso(taken_at)
    except ValueError as exc:
        raise OutcomeError(str(exc)) from None


def _insert(db: sqlite_utils.Database, user: User, row: dict[str, Any]) -> int:
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO outcomes (patient_id, course_id, session_id, instrument, total, items, taken_at, "
            "entered_by) VALUES (:patient_id, :course_id, :session_id, :instrument, :total, :items, "
            ":taken_at, :entered_by)",
            row,
        )
        outcome_id = inserted_id(cursor)
        audit(db, user, "record_outcome", "outcome", outcome_id, None, row)
    return outcome_id


def record_phq9(
    db: sqlite_utils.Database,
    user: User,
    patient_id: int,
    course_id: int | None,
    items: Sequence[int],
    session_id: int | None = None,
    *,
    taken_at: datetime | str | None = None,
) -> Phq9Result:
    """Store a PHQ-9 from its nine item answers (0-3); the total is computed."""
    require(user, "record_outcome")
    answers = list(items)
    if len(answers) != 9:
        raise OutcomeError(f"The PHQ-9 has 9 questions; {len(answers)} answers were given.")
    for n, value in enumerate(answers, start=1):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
            raise OutcomeError(
                f"PHQ-9 question {n}: choose an answer from 0 (not at all) to 3 (nearly every day)."
            )
    _check_course(db, patient_id, course_id)
    total = sum(answers)
    taken = _taken(taken_at)
    row = {
        "patient_id": patient_id,
        "course_id": course_id,
        "session_id": session_id,
        "instrument": "PHQ-9",
        "total": total,
        "items": json.dumps(answers),
        "taken_at": taken,
        "entered_by": user.username,
    }
    outcome_id = _insert(db, user, row)
    prompt = answers[8] > 0
    if prompt:
        log.warning("PHQ-9 %d: item 9 answered %d; safety prompt shown", outcome_id, answers[8])
    return Phq9Result(
        outcome_id,
        total,
        tuple(answers),
        severity(total),
        prompt,
        texts()["phq9"]["safety_prompt"] if prompt else None,
        taken,
    )


def record_total(
    db: sqlite_utils.Database,
    user: User,
    patient_id: int,
    course_id: int | None,
    instrument: str,
    total: int,
    session_id: int | None = None,
    *,
    taken_at: datetime | str | None = None,
) -> int:
    """Store a clinician-rated total (HAM-D or MADRS); returns the outcome id."""
    require(user, "record_outcome")
    spec = texts()["instruments"].get(instrument)
    if instrument not in ("HAM-D", "MADRS") or spec is None:
        raise OutcomeError(
            f"Totals can be entered for HAM-D or MADRS, not {instrument!r} "
            "(the PHQ-9 is entered item by item)."
        )
    if isinstance(total, bool) or not isinstance(total, int) or not spec["min"] <= total <= spec["max"]:
        raise OutcomeError(f"A {instrument} total is a whole number from {spec['min']} to {spec['max']}.")
    _check_course(db, patient_id, course_id)
    row = {
        "patient_id": patient_id,
        "course_id": course_id,
        "session_id": session_id,
        "instrument": instrument,
        "total": total,
        "items": None,
        "taken_at": _taken(taken_at),
        "entered_by": user.username,
    }
    return _insert(db, user, row)


def series(db: sqlite_utils.Database, course_id: int, instrument: str = "PHQ-9") -> list[OutcomePoint]:
    rows = db.execute(
        "SELECT id, taken_at, total, session_id, items FROM outcomes WHERE course_id = ? AND instrument = ? "
        "ORDER BY taken_at, id",
        [course_id, instrument],
    ).fetchall()
    return [OutcomePoint(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])) if r[4] else None) for r in rows]


def course_outcomes(db: sqlite_utils.Database, course_id: int, instrument: str = "PHQ-9") -> CourseOutcomes:
    """Baseline (the first measurement of the course), latest, % change, response and remission."""
    if instrument not in INSTRUMENTS:
        raise OutcomeError(f"Unknown instrument {instrument!r}; known: {', '.join(INSTRUMENTS)}.")
    data = texts()
    drop = float(data.get("response_drop_percent", 50))
    remission_at_most = int(data["instruments"][instrument]["remission_at_most"])
    points = series(db, course_id, instrument)
    if not points:
        return CourseOutcomes(instrument, None, None, None, None, None, [], None, remission_at_most)
    baseline, latest = points[0].total, points[-1].total
    threshold = baseline * (1 - drop / 100)
    change = None if baseline == 0 else round((latest - baseline) / baseline * 100, 1)
    followed_up = len(points) > 1
    response = (baseline > 0 and latest <= threshold) if followed_up else None
    remission = latest <= remission_at_most if followed_up else None
    return CourseOutcomes(
        instrument, baseline, latest, change, response, remission, points, threshold, remission_at_most
    )


def phq9_interval_days(db: sqlite_utils.Database) -> int:
    """The clinic's PHQ-9 interval: the setting when the clinic has one, else outcomes.json (7 days)."""
    from console.clinic import settings

    try:
        return int(settings.get_setting(db, "phq9_interval_days"))
    except ClinicError:  # not a known setting in this version: the resource's default
        return int(texts().get("phq9_interval_days", 7))


def phq9_due(db: sqlite_utils.Database, course_id: int, today: date) -> bool:
    """True when the course has no PHQ-9 yet, or the latest is at least the interval old."""
    row = db.execute(
        "SELECT max(taken_at) FROM outcomes WHERE course_id = ? AND instrument = 'PHQ-9'", [course_id]
    ).fetchone()
    if row is None or row[0] is None:
        return True
    last = datetime.fromisoformat(row[0]).astimezone().date()
    return (today - last).days >= phq9_interval_days(db)


def record_item9_notification(
    db: sqlite_utils.Database,
    user: User,
    outcome_id: int,
    told_whom: str,
    told_at: datetime | str | None = None,
    note: str | None = None,
) -> int:
    """Record who was told of a PHQ-9 item 9 answer above 0, and when (shown on the handoff note)."""
    require(user, "record_outcome")
    told_whom = (told_whom or "").strip()
    if not told_whom:
        raise OutcomeError("Say who was told (name and role).")
    row = db.execute("SELECT instrument, items FROM outcomes WHERE id = ?", [outcome_id]).fetchone()
    if row is None or row[0] != "PHQ-9":
        raise OutcomeError(f"There is no PHQ-9 {outcome_id}.")
    values = {
        "outcome_id": outcome_id,
        "told_whom": told_whom,
        "told_at": _taken(told_at),
        "note": (note or "").strip() or None,
        "by_user": user.username,
        "recorded_at": utc_now(),
    }
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO safety_notifications (outcome_id, told_whom, told_at, note, by_user, recorded_at) "
            "VALUES (:outcome_id, :told_whom, :told_at, :note, :by_user, :recorded_at)",
            values,
        )
        notification_id = inserted_id(cursor)
        audit(db, user, "record_item9_notification", "safety_notification", notification_id, None, values)
    return notification_id


def item9_notifications(db: sqlite_utils.Database, outcome_id: int) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT told_whom, told_at, note, by_user FROM safety_notifications WHERE outcome_id = ? ORDER BY id",
        [outcome_id],
    ).fetchall()
    return [{"told_whom": r[0], "told_at": r[1], "note": r[2], "by_user": r[3]} for r in rows]
