"""Motor-threshold rules: a measurement too old to trust, one that moved too far, and the holds.

The prescription follows the latest motor threshold (MT, % of maximum
stimulator output), so the technician must see when it is older than the
clinic's re-measure interval (setting ``mt_remeasure_days``, 7 days by
default: CPT 90869 is weekly) and when it differs by more than 10 % from the
one before - a change that large is worth a second look before stimulating
at 120 % of it. The flags inform; the holds (:func:`mt_holds`, issue 14,
item 6) block the next session: an MT older than the interval, a change of
medication answered on the checklist since the MT was measured, and a session
device whose coil type differs from the one the MT was measured with. The first
two lift by re-measuring or by a physician's signed override
(``console.clinic.physician_holds``); another coil only by re-measuring.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple, SupportsFloat

import sqlite_utils

from console.clinic.physician_holds import holds_lifted, lift_hold
from console.errors import ClinicError
from console.people.user import User

log = logging.getLogger(__name__)

CHANGE_FLAG_PERCENT = 10.0
"""Default for the flag on a change from the previous MT, when the clinic has no setting for it."""
MT_RANGE = (1.0, 100.0)


class Measurement(NamedTuple):
    id: int
    mso: float
    method: str
    measured_at: str
    measured_by: str | None
    device_model: str | None = None
    coil_type: str | None = None


def validate_mt(value: object) -> float:
    """An MT as typed by a person, as a number in % MSO, or ClinicError saying what is allowed."""
    try:
        if isinstance(value, str):
            number = float(value.strip().replace(",", "."))
        elif isinstance(value, SupportsFloat):
            number = float(value)
        else:
            raise TypeError(f"{value!r} is not a number")
    except (TypeError, ValueError):
        raise ClinicError(
            "Enter the motor threshold as a number, in % of maximum stimulator output."
        ) from None
    low, high = MT_RANGE
    if not math.isfinite(number) or not low <= number <= high:
        raise ClinicError(
            f"A motor threshold is between {low:g} and {high:g} % of maximum stimulator output; "
            f"{value} is not."
        )
    return number


def measurements(db: sqlite_utils.Database, patient_id: int) -> list[Measurement]:
    """The patient's MTs, newest first."""
    rows = db.execute(
        "SELECT id, mso, method, measured_at, measured_by, device_model, coil_type FROM motor_thresholds "
        "WHERE patient_id = ? ORDER BY measured_at DESC, id DESC",
        [patient_id],
    ).fetchall()
    return [Measurement(*r) for r in rows]


def _setting(db: sqlite_utils.Database, key: str, default: float) -> float:
    from console.clinic import settings

    try:
        return float(settings.get_setting(db, key))
    except ClinicError:  # not a setting this version knows: the documented default
        return default


def remeasure_days(db: sqlite_utils.Database) -> int:
    return int(_setting(db, "mt_remeasure_days", 7))


def mt_flags(db: sqlite_utils.Database, patient_id: int, today: date) -> list[str]:
    """What the technician should know about the MT before stimulating (empty = nothing).

    "No motor threshold", "older than N days", "changed by more than 10 % from
    the previous".
    """
    mts = measurements(db, patient_id)
    if not mts:
        return ["No motor threshold has been recorded: measure it before the first session."]
    flags = []
    latest = mts[0]
    measured = datetime.fromisoformat(latest.measured_at).astimezone().date()
    age = (today - measured).days
    limit = remeasure_days(db)
    if age > limit:
        flags.append(
            f"The motor threshold of {measured.isoformat()} is {age} days old, older than {limit} days: "
            "re-measure it."
        )
    if len(mts) > 1 and mts[1].mso > 0:
        previous = mts[1]
        change = (latest.mso - previous.mso) / previous.mso * 100
        threshold = _setting(db, "mt_change_flag_percent", CHANGE_FLAG_PERCENT)
        if abs(change) > threshold:
            flags.append(
                f"The motor threshold changed by {change:+.0f} % from the previous one "
                f"({previous.mso:g} to {latest.mso:g} % MSO), more than {threshold:g} %: check it."
            )
    return flags


MEDICATION_ITEM = "medication_change"
"""The checklist item (resources/checklist.json) whose "yes" asks for a new motor threshold."""


@dataclass(frozen=True)
class MtHold:
    """Why the latest MT may not be used for the next session: ``kind`` is the hold's code
    (mt_overdue, mt_medication, mt_other_coil), ``mt_id`` the measurement it is about."""

    kind: str
    mt_id: int
    message: str


def _latest(db: sqlite_utils.Database, patient_id: int) -> dict | None:
    return next(db.query(
        "SELECT * FROM motor_thresholds WHERE patient_id = ? ORDER BY measured_at DESC, id DESC LIMIT 1",
        [patient_id]), None)


def _medication_yes_times(db: sqlite_utils.Database, patient_id: int) -> list[str]:
    """When a checklist answered the medication question yes (UTC ISO), oldest first: checklists
    kept when answered (before a session exists) and those kept with a session's record."""
    rows = db.execute(
        "SELECT e.at, e.detail FROM session_events e JOIN sessions s ON s.id = e.session_id "
        "WHERE s.patient_id = ? AND e.kind = 'checklist'", [patient_id]).fetchall()
    found = [(at, json.loads(detail or "{}").get("answers", [])) for at, detail in rows]
    found += [(at, json.loads(answers or "[]")) for at, answers in db.execute(
        "SELECT at, answers FROM pre_session_checklists WHERE patient_id = ?", [patient_id]).fetchall()]
    return sorted(str(at) for at, answers in found
                  if any(a.get("id") == MEDICATION_ITEM and a.get("answer") == "yes" for a in answers))


def medication_change_after(db: sqlite_utils.Database, patient_id: int, since: str) -> str | None:
    """When a medication change was reported after ``since`` (UTC ISO), None when it was not.

    The checklist asks "since the last session", so the technician answers yes again at each
    try of the same day (after a re-measure, or back from the physician): those repeat the first
    report of that day, which is the change's time. A change reported first before ``since`` (the
    MT was re-measured after it) is dealt with, however often the day repeats it.
    """
    times = _medication_yes_times(db, patient_id)
    if not times:
        return None
    last_day = datetime.fromisoformat(times[-1]).astimezone().date()
    first_that_day = next(t for t in times if datetime.fromisoformat(t).astimezone().date() == last_day)
    return first_that_day if first_that_day > since else None


def mt_holds(
    db: sqlite_utils.Database, patient_id: int, course_id: int | None, now: datetime, *,
    coil: str | None = None,
) -> list[MtHold]:
    """What holds the next session on the latest MT (empty: nothing; no MT at all is said elsewhere).

    ``coil`` is the coil type of the device the session is on, when known: an MT measured with
    another coil type does not hold for it (compared with the MT's own coil type when it has one).
    An overdue MT is lifted by a physician's override signed the same day; a medication change by
    one signed after the checklist that reported it.
    """
    row = _latest(db, patient_id)
    if row is None:
        return []
    holds = []
    measured = datetime.fromisoformat(row["measured_at"]).astimezone()
    age = (now.astimezone().date() - measured.date()).days
    limit = remeasure_days(db)
    if age > limit:
        signed_today = [h for h in holds_lifted(db, "mt_overdue", patient_id=patient_id, subject_id=row["id"])
                        if datetime.fromisoformat(h.signed_at).astimezone().date() == now.astimezone().date()]
        if not signed_today:
            holds.append(MtHold("mt_overdue", row["id"], (
                f"The motor threshold of {measured.date().isoformat()} is {age} days old, older than the "
                f"clinic's {limit} days: re-measure it, or a physician signs an override.")))
    changed = medication_change_after(db, patient_id, row["measured_at"])
    if changed is not None:
        lifted = [h for h in holds_lifted(db, "mt_medication", patient_id=patient_id, subject_id=row["id"])
                  if h.signed_at > changed]
        if not lifted:
            holds.append(MtHold("mt_medication", row["id"], (
                "The medication changed since the motor threshold was measured (answered on the "
                "checklist): re-measure it, or a physician signs an override.")))
    mt_coil = row.get("coil_type")
    if coil and mt_coil and coil.strip().casefold() != str(mt_coil).strip().casefold():
        holds.append(MtHold("mt_other_coil", row["id"], (
            f"The motor threshold was measured with a {mt_coil} coil, and this device has a {coil} coil: "
            "re-measure it with this coil before prescribing on it.")))
    return holds


def lift_mt_hold(
    db: sqlite_utils.Database, physician: User, password: str, hold: MtHold, patient_id: int,
    course_id: int | None, reason: str,
) -> int:
    """A physician's signed override of an overdue MT or one not re-measured after a medication
    change (another coil type is never overridden: only a new measurement helps)."""
    if hold.kind == "mt_other_coil":
        raise ClinicError("A motor threshold measured with another coil cannot be overridden: re-measure it.")
    return lift_hold(db, physician, password, hold.kind, patient_id, course_id, hold.mt_id, reason)
