"""The one answer to "may this session start?", for the chair and for the headless ``record``.

Both ask :func:`gate_for_patient` / :func:`gate_for_course` and act on the same
:class:`StartGate`, so a rule holds (in the same words) wherever a session starts:

- blockers: nothing may start, and no override helps (no open course, a closed
  course, a protocol that is not a preset, no motor threshold, no or an
  uncleared screening, a prescription the device cannot deliver, unreadable
  safety limits) until someone fixes the cause; and the holds (issue 14,
  items 6 and 8): a seizure a physician has not reviewed, an MT older than the
  clinic's interval or not re-measured after a medication change (re-measured,
  or a physician's signed review), an MT measured with another coil type than
  the session's (re-measured only); :func:`holds_to_review` and
  :func:`sign_hold_review` are the physician's side;
- overrides: the start may go on once the right person says so, each of a kind
  (:class:`OverrideKind`): a physician's signed override of the safety limits,
  a technician's reason for an early start or for a device intensity below
  the prescription, a physician's signed override for a device intensity
  above it (checked at the % MT it delivers: device % MSO over the MT);
- warnings: things to see but not blocking (MT old or changed, the schedule's
  wait, every planned session given).

An override counts when it was given today for this course, is not yet
linked to a session, and covers every problem the gate reports now, word for
word (a protocol or intensity that changed since is a new problem and needs a
new override; an early start is matched by its kind, since its message
counts the minutes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlite_utils

from console.clinic import motor_threshold, outcomes
from console.clinic import records as clinic
from console.clinic.protocols import ProtocolSpec, preset
from console.clinic.records import MAX_MSO
from console.errors import ClinicError
from console.people.permissions import who_may
from console.people.user import User
from console.safety import adverse_event, checklist_holds, schedule, screening
from console.safety.limits import (
    LimitViolation,
    as_spec,
    check_daily,
    check_delivered,
    check_intensity,
    check_protocol,
    load_limits,
)
from db.database import to_utc_iso

log = logging.getLogger(__name__)



class OverrideKind(StrEnum):
    """What lets a start go on despite a problem; the value is the override's kind in the records."""

    SAFETY_LIMIT = "safety_limit"
    EARLY_START = "schedule"
    EXTRA_SESSION = "extra_session"
    """A session beyond the day's plan (or the course's): a physician's signed override (issue 14,
    item 10); a technician's reason covers only a start sooner than the gap between sessions.
    Recorded as a signed ``schedule`` override."""
    INTENSITY = "intensity"
    INTENSITY_ABOVE = "intensity_above"
    """The device set above the prescription: a physician's signed override of the limits (issue 14,
    item 1), as for :attr:`SAFETY_LIMIT`; recorded as a ``safety_limit`` override."""

    @property
    def record_kind(self) -> str:
        """The override's kind in the records (console.safety.overrides.KINDS)."""
        if self is OverrideKind.EXTRA_SESSION:
            return "schedule"
        return "safety_limit" if self is OverrideKind.INTENSITY_ABOVE else self.value

    @property
    def signed(self) -> bool:
        """A physician signs it (user name and password); the others take the technician's reason."""
        return self in (OverrideKind.SAFETY_LIMIT, OverrideKind.INTENSITY_ABOVE, OverrideKind.EXTRA_SESSION)

    @property
    def needs_device(self) -> bool:
        """Asked at Start with the device connected (its intensity), not before the session exists."""
        return self in (OverrideKind.INTENSITY, OverrideKind.INTENSITY_ABOVE)

    @property
    def what(self) -> str:
        return {
            OverrideKind.SAFETY_LIMIT: "a physician's signed override",
            OverrideKind.EARLY_START: "a recorded reason for starting sooner than the schedule",
            OverrideKind.EXTRA_SESSION: "a physician's signed override for a session beyond the plan",
            OverrideKind.INTENSITY: "a recorded reason for the device's intensity",
            OverrideKind.INTENSITY_ABOVE: "a physician's signed override of the intensity",
        }[self]


@dataclass(frozen=True)
class Remedy:
    """Who clears a blocker and where, so no screen is a dead end (issue 20, item 17).

    ``action`` is the permission it takes (console.people.permissions), so a screen offers the
    action only to someone who may do it; ``offer`` names what the chair can open itself
    ("motor_threshold", "screening", "clearance"), None when it is done elsewhere.
    """

    action: str | None
    where: str
    offer: str | None = None

    def words(self) -> str:
        """One line for people: who, then where."""
        who = who_may(self.action) if self.action else "whoever looks after the program's installation"
        return f"Who can clear this: {who}, {self.where}."


_CHAIR_OR_PATIENTS = "at the Chair or on the Patients screen"
_REMEDIES: dict[str, Remedy] = {
    "no_course": Remedy("manage_patients", "with “Open course” on the Patients screen"),
    "course_closed": Remedy("manage_patients", "with “Open course” on the Patients screen"),
    "protocol_not_preset": Remedy(
        "manage_patients", "on the Patients screen: “Close course”, then “Open course” with one of "
        "the clinic's protocols"),
    "above_device_max": Remedy(
        "record_session", f"by re-measuring with “Motor threshold” {_CHAIR_OR_PATIENTS}; if the "
        "measurement is right, a supervisor reviews the course's % MT on the Patients screen",
        "motor_threshold"),
    "limits_unreadable": Remedy(None, "by restoring the clinic's safety-limits file"),
    "no_motor_threshold": Remedy(
        "record_session", f"with “Motor threshold” {_CHAIR_OR_PATIENTS}", "motor_threshold"),
    # Issue 14, items 6 and 8: holds a physician lifts (or, for the MT, a new measurement).
    "seizure_hold": Remedy("review_hold", "with “Hold review” on the Patients screen"),
    "checklist_hold": Remedy("review_hold", "with “Hold review” on the Patients screen"),
    "mt_overdue": Remedy(
        "record_session", f"by re-measuring with “Motor threshold” {_CHAIR_OR_PATIENTS}; or a physician "
        "signs an override with “Hold review” on the Patients screen", "motor_threshold"),
    "mt_medication": Remedy(
        "record_session", f"by re-measuring with “Motor threshold” {_CHAIR_OR_PATIENTS}; or a physician "
        "signs an override with “Hold review” on the Patients screen", "motor_threshold"),
    "mt_other_coil": Remedy(
        "record_session", f"by re-measuring with this coil with “Motor threshold” {_CHAIR_OR_PATIENTS}",
        "motor_threshold"),
}
_SCREENING = Remedy("record_screening", f"with “Safety screening” {_CHAIR_OR_PATIENTS}", "screening")
_CLEARANCE = Remedy("clear_screening", f"with “Physician review” {_CHAIR_OR_PATIENTS}", "clearance")


@dataclass(frozen=True)
class Blocker:
    """Why the session cannot start at all: a code for programs, a message for people."""

    code: str
    message: str

    @property
    def remedy(self) -> Remedy | None:
        """Who may clear it and where (None: a code this table does not know yet)."""
        if self.code == "screening":
            return _CLEARANCE if screening.REVIEW_PHRASE in self.message else _SCREENING
        return _REMEDIES.get(self.code)

    def with_remedy(self) -> str:
        """The message and, on its own line, who clears it and where."""
        remedy = self.remedy
        return f"{self.message}\n{remedy.words()}" if remedy else self.message


@dataclass(frozen=True)
class OverrideNeed:
    """A problem the start may go past once the override of ``kind`` is given."""

    kind: OverrideKind
    problems: tuple[str, ...]
    violations: tuple[LimitViolation, ...] = ()
    early_start: schedule.EarlyStart | None = None
    covered_by: int | None = None
    """The id of the override given today that covers it (None: still to give)."""

    @property
    def pending(self) -> bool:
        return self.covered_by is None

    def summary(self) -> str:
        """One line: what is wrong and what it takes to go on."""
        return f"{self.problems[0]} (needs {self.kind.what})"


@dataclass(frozen=True)
class StartGate:
    """Everything that decides whether the patient's next session may start now."""

    patient_id: int
    course_id: int | None
    blockers: tuple[Blocker, ...]
    overrides: tuple[OverrideNeed, ...]
    warnings: tuple[str, ...]
    phq9_due: bool
    prescription: clinic.Prescription | None
    protocol: ProtocolSpec | None

    @property
    def blocker_messages(self) -> list[str]:
        return [b.message for b in self.blockers]

    @property
    def pending(self) -> list[OverrideNeed]:
        """The overrides still to give, in the order a person is asked."""
        return [need for need in self.overrides if need.pending]

    @property
    def can_start(self) -> bool:
        return not self.blockers and not self.pending

    @property
    def override_ids(self) -> list[int]:
        """The overrides to link to the session once it exists."""
        return sorted(need.covered_by for need in self.overrides if need.covered_by is not None)

    def need(self, kind: OverrideKind) -> OverrideNeed | None:
        return next((need for need in self.overrides if need.kind is kind), None)

    def first_problem(self) -> str | None:
        """The first reason it cannot start now, in words (None: it can)."""
        if self.blockers:
            return self.blockers[0].message
        pending = self.pending
        return pending[0].summary() if pending else None

    # The parts the tests and the review read by name.
    @property
    def limit_violations(self) -> list[LimitViolation]:
        need = self.need(OverrideKind.SAFETY_LIMIT)
        return list(need.violations) if need else []

    @property
    def early_start(self) -> schedule.EarlyStart | None:
        need = self.need(OverrideKind.EARLY_START) or self.need(OverrideKind.EXTRA_SESSION)
        return need.early_start if need else None

    @property
    def intensity(self) -> list[LimitViolation]:
        need = self.need(OverrideKind.INTENSITY)
        return list(need.violations) if need else []

    def needs(self, kind: OverrideKind) -> bool:
        need = self.need(kind)
        return need is not None and need.pending


def _covering_override(
    db: sqlite_utils.Database, course_id: int, kind: OverrideKind, problems: Iterable[str], now: datetime
) -> int | None:
    wanted = set(problems)
    key = "code" if kind in (OverrideKind.EARLY_START, OverrideKind.EXTRA_SESSION) else "message"
    day = now.astimezone().date()
    # A signed kind is covered only by a signature (an unsigned row, e.g. one written before
    # overrides.record refused them, never lifts a safety limit); a session beyond the plan only
    # by a physician's.
    physician = " AND signed = 1" if kind.signed else ""
    if kind is OverrideKind.EXTRA_SESSION:
        physician += " AND by_role = 'physician'"
    rows = db.execute(
        "SELECT id, violations, at FROM overrides WHERE course_id = ? AND kind = ? "
        f"AND session_id IS NULL{physician} ORDER BY id DESC",
        [course_id, kind.record_kind],
    ).fetchall()
    for override_id, violations, at in rows:
        if datetime.fromisoformat(at).astimezone().date() != day:
            continue
        if wanted <= {v.get(key) for v in json.loads(violations)}:
            return int(override_id)
    return None


def _minutes(wait: timedelta) -> str:
    minutes = max(1, round(wait.total_seconds() / 60))
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _mt_warnings(db: sqlite_utils.Database, patient_id: int, now: datetime) -> list[str]:
    """The MT flags to see (changed); a missing or overdue MT is a blocker (a hold), not a warning."""
    return [f for f in motor_threshold.mt_flags(db, patient_id, now.date())
            if not f.startswith("No motor threshold") and "days old" not in f]


def _hold_blockers(
    db: sqlite_utils.Database, patient_id: int, course_id: int | None, now: datetime, coil: str | None
) -> list[Blocker]:
    """The holds on the course (issue 14, items 6 and 8): an event a physician has not reviewed
    (a seizure), and the MT holds (overdue, medication changed since, measured with another coil)."""
    blockers = [Blocker("seizure_hold", adverse_event.hold_message(e))
                for e in adverse_event.events_on_hold(db, patient_id, course_id)]
    blockers += [Blocker("checklist_hold", checklist_holds.hold_message(c))
                 for c in checklist_holds.checklists_on_hold(db, patient_id, course_id)]
    blockers += [Blocker(h.kind, h.message)
                 for h in motor_threshold.mt_holds(db, patient_id, course_id, now, coil=coil)]
    return blockers


def _schedule_warnings(db: sqlite_utils.Database, course: clinic.Course, now: datetime) -> list[str]:
    warnings = []
    wait = schedule.next_session_countdown(db, course.id, now)
    if wait:
        at = (now + wait).astimezone().strftime("%H:%M")
        warnings.append(
            f"Next session of the day from {at} (in {_minutes(wait)}): the schedule keeps "
            f"sessions apart; starting sooner asks for a reason."
        )
    number = clinic.next_session_number(db, course.id)
    if number > course.planned_sessions:
        warnings.append(
            f"All {course.planned_sessions} planned sessions of this course are done; "
            f"this would be session {number}."
        )
    return warnings


def _course_blockers(
    course: clinic.Course, rx: clinic.Prescription, spec: ProtocolSpec | None
) -> list[Blocker]:
    blockers = []
    if course.status != "open":
        blockers.append(Blocker("course_closed", "This course is closed."))
    if spec is None:
        blockers.append(Blocker(
            "protocol_not_preset",
            f"The course's protocol {course.protocol!r} is not one of the clinic's presets.",
        ))
    if rx.mso is not None and not rx.deliverable:
        blockers.append(Blocker(
            "above_device_max",
            f"The prescription gives {rx.mso} % MSO, above the device's maximum output of "
            f"{MAX_MSO} % MSO: it cannot be delivered.",
        ))
    return blockers


def _limit_violations(
    course: clinic.Course, rx: clinic.Prescription, spec: ProtocolSpec | None, *,
    device: str | None = None, coil: str | None = None, pulses_today: int = 0,
) -> tuple[list[LimitViolation], list[Blocker]]:
    """The protocol at the prescription against the clinic's limits (the device's and coil's own
    table when the clinic has one), at whichever is higher of the prescribed % MT and the % MT the
    prescribed setting delivers, and the day's pulses; unreadable limits block."""
    if spec is None or rx.mso is None:
        return [], []
    try:
        limits = load_limits(device, coil)
        percent_mt = max(course.percent_mt, rx.effective_percent_mt or 0.0)
        found = check_protocol(limits, spec, percent_mt, rx.mso) + check_daily(limits, spec, pulses_today)
        return found, []
    except ClinicError as exc:
        log.exception("safety limits not checked")
        return [], [Blocker("limits_unreadable", f"The clinic's safety limits could not be read: {exc}")]


def _needs(
    db: sqlite_utils.Database, course_id: int, now: datetime, found: Iterable[OverrideNeed]
) -> tuple[OverrideNeed, ...]:
    """Each problem with the override given today that covers it, if any."""
    out = []
    for need in found:
        keys = [need.early_start.kind] if need.early_start else list(need.problems)
        covering = _covering_override(db, course_id, need.kind, keys, now)
        out.append(OverrideNeed(need.kind, need.problems, need.violations, need.early_start, covering))
    return tuple(out)


def pulses_today(db: sqlite_utils.Database, patient_id: int, now: datetime) -> int:
    """The pulses the patient has received today (local day of ``now``), every session together."""
    midnight = datetime.combine(now.date(), datetime.min.time(), tzinfo=now.tzinfo)
    row = db.execute(
        "SELECT coalesce(sum(pulses_delivered), 0) FROM sessions WHERE patient_id = ? AND started_at >= ?",
        [patient_id, to_utc_iso(midnight)],
    ).fetchone()
    return int(row[0] or 0)


def _delivered_need(
    course: clinic.Course, rx: clinic.Prescription, spec: ProtocolSpec | None, device_mso: int,
    device: str | None, coil: str | None,
) -> OverrideNeed | None:
    """The device set above the prescription, checked at the % MT it delivers (signed override)."""
    if rx.mso is None or rx.mt_mso is None or spec is None or device_mso <= rx.mso:
        return None
    try:
        limits = load_limits(device, coil)
    except ClinicError:  # said as the limits_unreadable blocker
        return None
    found = check_delivered(limits, spec, mt_mso=rx.mt_mso, percent_mt=course.percent_mt,
                            prescribed_mso=rx.mso, device_mso=device_mso)
    return OverrideNeed(OverrideKind.INTENSITY_ABOVE, tuple(v.message for v in found), tuple(found))


def gate_for_course(
    db: sqlite_utils.Database,
    course_id: int,
    *,
    protocol: ProtocolSpec | Mapping[str, Any] | Any | None = None,
    device_mso: int | None = None,
    device: str | None = None,
    coil: str | None = None,
    now: datetime | None = None,
) -> StartGate:
    """The gate for the course's next session at ``now`` (default: now).

    ``protocol`` is what the device has loaded (a ProtocolLoaded event, a
    ProtocolSpec or a dict); None checks the course's preset. ``device_mso`` is
    the device's intensity setting when known (None: not asked yet): below the
    prescription it asks the technician's reason, above it a signed override of
    the % MT it delivers. ``device`` (its model) and ``coil`` (the coil type)
    pick the clinic's own limits for them, when it has some.
    """
    now = (now or datetime.now(UTC)).astimezone()
    course = clinic.get_course(db, course_id)
    rx = clinic.prescription(db, course_id)
    spec = as_spec(protocol) if protocol is not None else preset(course.protocol)
    blockers = _course_blockers(course, rx, spec)
    blockers += _patient_blockers(db, course.patient_id, now, has_mt=rx.mso is not None, course_id=course.id)
    blockers += _hold_blockers(db, course.patient_id, course.id, now, coil)
    violations, unreadable = _limit_violations(course, rx, spec, device=device, coil=coil,
                                               pulses_today=pulses_today(db, course.patient_id, now))
    blockers += unreadable
    found = []
    if violations:
        found.append(OverrideNeed(OverrideKind.SAFETY_LIMIT, tuple(v.message for v in violations),
                                  tuple(violations)))
    early = schedule.early_start_check(db, course_id, now)
    if early is not None:
        kind = OverrideKind.EXTRA_SESSION if early.kind == "extra_session" else OverrideKind.EARLY_START
        found.append(OverrideNeed(kind, (early.message,), early_start=early))
    above = _delivered_need(course, rx, spec, device_mso, device, coil) if device_mso is not None else None
    if above is not None:
        found.append(above)
    elif rx.mso is not None and device_mso is not None and (differs := check_intensity(rx.mso, device_mso)):
        found.append(OverrideNeed(OverrideKind.INTENSITY, tuple(v.message for v in differs), tuple(differs)))
    warnings = _mt_warnings(db, course.patient_id, now) + _schedule_warnings(db, course, now)
    return StartGate(
        course.patient_id, course_id, tuple(blockers), _needs(db, course_id, now, found), tuple(warnings),
        outcomes.phq9_due(db, course_id, now.date()), rx, spec,
    )


def _patient_blockers(
    db: sqlite_utils.Database, patient_id: int, now: datetime, *, has_mt: bool, course_id: int | None = None
) -> list[Blocker]:
    """What blocks the course (None: the patient's next): its safety screening and the motor threshold."""
    found = screening.course_start_blockers(db, patient_id, today=now.date(), course_id=course_id)
    blockers = [Blocker("screening", message) for message in found]
    if not has_mt:
        blockers.append(Blocker(
            "no_motor_threshold", "No motor threshold has been recorded: measure it before the first session."
        ))
    return blockers


def gate_for_patient(
    db: sqlite_utils.Database, patient_id: int, *, device_mso: int | None = None, now: datetime | None = None,
    device: str | None = None, coil: str | None = None,
) -> StartGate:
    """The gate for the patient's next session: of the open course, else blocked for want of one."""
    course = clinic.active_course(db, patient_id)
    if course is not None:
        return gate_for_course(db, course.id, device_mso=device_mso, device=device, coil=coil, now=now)
    now = (now or datetime.now(UTC)).astimezone()
    has_mt = clinic.latest_motor_threshold(db, patient_id) is not None
    blockers = [
        Blocker("no_course", "No open treatment course: a supervisor opens one before the first session."),
        *_patient_blockers(db, patient_id, now, has_mt=has_mt),
        *_hold_blockers(db, patient_id, None, now, coil),
    ]
    warnings = _mt_warnings(db, patient_id, now)
    return StartGate(patient_id, None, tuple(blockers), (), tuple(warnings), False, None, None)


def prescription_problems(course: clinic.Course, mt_mso: float) -> list[str]:
    """What the start gate would say of ``course`` if ``mt_mso`` were the latest motor threshold:
    a prescription above the device's maximum, and the clinic's safety limits it breaks.

    For the form where the MT is typed, so a person hears it there, in the gate's own words,
    and not first at the chair (issue 20, item 3). Empty: nothing the gate would object to.
    """
    mso = clinic.prescribed_mso(mt_mso, course.percent_mt)
    rx = clinic.Prescription(mt_mso, course.percent_mt, mso, None)
    spec = preset(course.protocol)
    above = [b.message for b in _course_blockers(course, rx, spec) if b.code == "above_device_max"]
    violations, unreadable = _limit_violations(course, rx, spec)
    return above + [v.message for v in violations] + [b.message for b in unreadable]


@dataclass(frozen=True)
class HoldToReview:
    """One hold a physician may lift (issue 14, items 6 and 8): ``kind`` is the blocker's code
    (seizure_hold, mt_overdue, mt_medication), ``subject_id`` the event or the MT it is about."""

    kind: str
    subject_id: int
    course_id: int | None
    message: str


def holds_to_review(
    db: sqlite_utils.Database, patient_id: int, now: datetime | None = None
) -> list[HoldToReview]:
    """The holds on the patient's next session that a physician's signed review lifts (a coil
    type other than the MT's is not among them: only a new measurement helps there)."""
    now = (now or datetime.now(UTC)).astimezone()
    course = clinic.active_course(db, patient_id)
    course_id = course.id if course is not None else None
    holds = [HoldToReview("seizure_hold", int(e["id"]), course_id, adverse_event.hold_message(e))
             for e in adverse_event.events_on_hold(db, patient_id, course_id)]
    holds += [HoldToReview("checklist_hold", c.id, course_id, checklist_holds.hold_message(c))
              for c in checklist_holds.checklists_on_hold(db, patient_id, course_id)]
    holds += [HoldToReview(h.kind, h.mt_id, course_id, h.message)
              for h in motor_threshold.mt_holds(db, patient_id, course_id, now) if h.kind != "mt_other_coil"]
    return holds


def sign_hold_review(
    db: sqlite_utils.Database, physician: User, password: str, patient_id: int, hold: HoldToReview,
    decision: str,
) -> int:
    """The physician's signed review that lifts ``hold``, with the decision; returns its id.
    Raises ClinicError for a wrong password, a signer who is not a physician, no decision."""
    if hold.kind == "seizure_hold":
        return adverse_event.review_event(db, physician, password, hold.subject_id, decision)
    if hold.kind == "checklist_hold":
        return checklist_holds.review_checklist(db, physician, password, hold.subject_id, decision)
    mt_hold = motor_threshold.MtHold(hold.kind, hold.subject_id, hold.message)
    return motor_threshold.lift_mt_hold(db, physician, password, mt_hold, patient_id, hold.course_id,
                                        decision)
