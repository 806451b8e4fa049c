"""Motor-threshold flags: a measurement too old to trust, or one that moved too far.

The prescription follows the latest motor threshold (MT, % of maximum
stimulator output), so the technician must see when it is older than the
clinic's re-measure interval (setting ``mt_remeasure_days``, 4 weeks by
default) and when it differs by more than 10 % from the one before - a
change that large is worth a second look before stimulating at 120 % of it.
The flags inform; they do not block.
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime
from typing import NamedTuple, SupportsFloat

import sqlite_utils

from console.errors import ClinicError

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
        "SELECT id, mso, method, measured_at, measured_by FROM motor_thresholds "
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
    return int(_setting(db, "mt_remeasure_days", 28))


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
