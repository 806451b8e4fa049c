"""Everything checked before a session starts, in one call for the chair and the session engine.

- blockers: nothing may start (no screening, an uncleared contraindication,
  no motor threshold, a closed course) until someone fixes the cause;
- limit violations: the protocol is outside the clinic's safety limits and
  needs a supervisor's signed override;
- early start: sooner than the schedule allows, needs a recorded reason;
- intensity: the device is not set to the prescription, needs a reason;
- flags: things to see but not blocking (MT old or changed, PHQ-9 due).

An override counts for the check when it was given today for this course,
is not yet linked to a session, and covers every problem the check reports
now, word for word (a protocol or intensity that changed since is a new
problem and needs a new override; an early start is matched by its kind,
since its message counts the minutes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from console.clinic import motor_threshold, outcomes
from console.clinic import records as clinic
from console.clinic.protocols import ProtocolSpec, preset
from console.safety import schedule, screening
from console.safety.limits import LimitViolation, as_spec, check_intensity, check_protocol, load_limits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreStart:
    course_id: int
    blockers: list[str]
    limit_violations: list[LimitViolation]
    early_start: schedule.EarlyStart | None
    intensity: list[LimitViolation]
    flags: list[str]
    phq9_due: bool
    prescription: clinic.Prescription
    protocol: ProtocolSpec | None
    overrides: dict[str, int] = field(default_factory=dict)
    """Kind ("safety_limit", "schedule", "intensity") -> the id of the override that covers it."""

    @property
    def needs_limit_override(self) -> bool:
        return bool(self.limit_violations) and "safety_limit" not in self.overrides

    @property
    def needs_early_reason(self) -> bool:
        return self.early_start is not None and "schedule" not in self.overrides

    @property
    def needs_intensity_reason(self) -> bool:
        return bool(self.intensity) and "intensity" not in self.overrides

    @property
    def can_start(self) -> bool:
        return not (
            self.blockers
            or self.needs_limit_override
            or self.needs_early_reason
            or self.needs_intensity_reason
        )

    @property
    def override_ids(self) -> list[int]:
        """The overrides to link to the session once it exists."""
        return sorted(self.overrides.values())


def _covering_override(
    db: sqlite_utils.Database, course_id: int, kind: str, problems: Iterable[str], now: datetime
) -> int | None:
    wanted = set(problems)
    key = "code" if kind == "schedule" else "message"
    day = now.astimezone().date()
    rows = db.execute(
        "SELECT id, violations, at FROM overrides WHERE course_id = ? AND kind = ? "
        "AND session_id IS NULL ORDER BY id DESC",
        [course_id, kind],
    ).fetchall()
    for override_id, violations, at in rows:
        if datetime.fromisoformat(at).astimezone().date() != day:
            continue
        if wanted <= {v.get(key) for v in json.loads(violations)}:
            return int(override_id)
    return None


def pre_start_checks(
    db: sqlite_utils.Database,
    course_id: int,
    *,
    protocol: ProtocolSpec | Mapping[str, Any] | Any | None = None,
    device_mso: int | None = None,
    now: datetime | None = None,
) -> PreStart:
    """The checks for starting the course's next session at ``now`` (default: now).

    ``protocol`` is what the device has loaded (a ProtocolLoaded event, a
    ProtocolSpec or a dict); None checks the course's preset. ``device_mso`` is
    the device's intensity setting when known.
    """
    now = (now or datetime.now()).astimezone()
    course = clinic.get_course(db, course_id)
    blockers = []
    if course.status != "open":
        blockers.append("This course is closed.")
    blockers.extend(screening.course_start_blockers(db, course.patient_id, today=now.date()))
    rx = clinic.prescription(db, course_id)
    if rx.mso is None:
        blockers.append("No motor threshold has been recorded: measure it before the first session.")
    spec = as_spec(protocol) if protocol is not None else preset(course.protocol)
    violations: list[LimitViolation] = []
    if spec is None:
        blockers.append(f"The course's protocol {course.protocol!r} is not one of the clinic's presets.")
    elif rx.mso is not None:
        violations = check_protocol(load_limits(), spec, course.percent_mt, rx.mso)
    intensity = check_intensity(rx.mso, device_mso) if rx.mso is not None and device_mso is not None else []
    early = schedule.early_start_check(db, course_id, now)
    flags = [
        f
        for f in motor_threshold.mt_flags(db, course.patient_id, now.date())
        if not f.startswith("No motor threshold")
    ]
    due = outcomes.phq9_due(db, course_id, now.date())
    found: dict[str, int] = {}
    for kind, problems in (
        ("safety_limit", [v.message for v in violations]),
        ("schedule", [early.kind] if early else []),
        ("intensity", [v.message for v in intensity]),
    ):
        if problems:
            override_id = _covering_override(db, course_id, kind, problems, now)
            if override_id is not None:
                found[kind] = override_id
    return PreStart(course_id, blockers, violations, early, intensity, flags, due, rx, spec, found)
