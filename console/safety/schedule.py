"""Course schedules: which sessions are due, which were missed, and early starts.

The schedules are the clinic's data (``resources/schedules.json``): acute (5
a week, then a 3-2-1 taper), maintenance (a booster every N days) and
accelerated (SNT/SAINT style: 10 a day, 50 minutes apart). A course follows
one of them (``courses.schedule``) for its planned number of sessions.

The plan is walked day by day from the course's first session, and which
phase a day belongs to follows the sessions actually given, not the
calendar: a missed day is shown as missed and the course runs on until its
sessions are given, as clinics do. A session counts when it delivered
pulses or is still being recorded; one that ended without a pulse (aborted
at once) does not. Days are the computer's local days.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlite_utils

from console.errors import ClinicError
from console.people.permissions import require
from console.people.signing import confirm_signer
from console.resource_data import load as load_json
from console.safety import overrides
from console.safety.overrides import Scope

if TYPE_CHECKING:
    from console.people.user import User

log = logging.getLogger(__name__)

SCHEDULES_FILE = "schedules.json"


class ScheduleError(ClinicError):
    """The course's schedule cannot be used; the message says why."""


@dataclass(frozen=True)
class Phase:
    name: str
    sessions: int | None  # None: whatever the course's planned sessions leave
    weekdays: tuple[int, ...] | None  # 0 = Monday; None for interval phases
    per_day: int
    min_gap_min: float | None = None
    interval_days: int | None = None
    gap_from_end: bool = False
    """The minimum gap counts from the previous session's end (SNT/SAINT: 50 minutes between
    sessions), not its start; a session with no recorded end counts from its start."""


@dataclass(frozen=True)
class Schedule:
    key: str
    name: str
    default_sessions: int
    phases: tuple[Phase, ...]

    def plan(self, planned_sessions: int) -> list[tuple[Phase, int]]:
        """Each phase with its number of sessions for a course of ``planned_sessions``.

        Fixed phases keep their size from the end backwards (a short course
        keeps its taper); the open phase takes what is left.
        """
        fixed = sum(p.sessions for p in self.phases if p.sessions is not None)
        rest = max(planned_sessions - fixed, 0)
        left = planned_sessions
        out = []
        for phase in self.phases:
            want = rest if phase.sessions is None else phase.sessions
            take = min(want, left)
            out.append((phase, take))
            left -= take
        if left > 0:  # no open phase: the last one runs on
            last, n = out[-1]
            out[-1] = (last, n + left)
        return [(p, n) for p, n in out if n > 0]


@dataclass(frozen=True)
class DayPlan:
    """What the schedule plans for one day of a course."""

    day: date
    planned: int
    done: int
    phase: str | None
    sessions_given: int
    sessions_planned: int

    @property
    def remaining_today(self) -> int:
        return max(self.planned - self.done, 0)

    @property
    def course_complete(self) -> bool:
        return self.sessions_given >= self.sessions_planned


@dataclass(frozen=True)
class EarlyStart:
    """A session sooner than the schedule allows: it may start only with a recorded reason."""

    kind: str  # "extra_session" (beyond the day's sessions) or "too_soon" (before the minimum gap)
    message: str
    session_of_day: int
    wait: timedelta | None = None

    def as_violation(self) -> dict[str, str]:
        return {"code": self.kind, "message": self.message}


def _phase(raw: dict[str, Any], where: str) -> Phase:
    try:
        weekdays = raw.get("weekdays")
        interval = raw.get("interval_days")
        phase = Phase(
            name=str(raw.get("name", "")),
            sessions=None if raw.get("sessions") is None else int(raw["sessions"]),
            weekdays=None if weekdays is None else tuple(int(d) for d in weekdays),
            per_day=int(raw.get("per_day", 1)),
            min_gap_min=None if raw.get("min_gap_min") is None else float(raw["min_gap_min"]),
            interval_days=None if interval is None else int(interval),
            gap_from_end=raw.get("min_gap_from", "start") == "end",
        )
    except (TypeError, ValueError) as exc:
        raise ScheduleError(f"{SCHEDULES_FILE}: {where} cannot be read ({exc}).") from None
    if (phase.weekdays is None) == (phase.interval_days is None):
        raise ScheduleError(f"{SCHEDULES_FILE}: {where} needs either weekdays or interval_days.")
    if phase.weekdays is not None and (not phase.weekdays or any(not 0 <= d <= 6 for d in phase.weekdays)):
        raise ScheduleError(f"{SCHEDULES_FILE}: {where} weekdays go from 0 (Monday) to 6 (Sunday).")
    if phase.per_day < 1 or (phase.interval_days is not None and phase.interval_days < 1):
        raise ScheduleError(f"{SCHEDULES_FILE}: {where} needs per_day and interval_days of 1 or more.")
    return phase


@cache
def _load_cached(marker: str) -> dict[str, Schedule]:
    data = load_json(SCHEDULES_FILE)
    out = {}
    try:
        for key, raw in data["schedules"].items():
            phases = tuple(_phase(p, f"schedule {key!r} phase {i + 1}") for i, p in enumerate(raw["phases"]))
            if not phases:
                raise ScheduleError(f"{SCHEDULES_FILE}: schedule {key!r} has no phases.")
            out[key] = Schedule(key, str(raw.get("name", key)), int(raw.get("default_sessions", 0)), phases)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ScheduleError(f"{SCHEDULES_FILE} cannot be used: {exc}") from None
    return out


def load_schedules() -> dict[str, Schedule]:
    """Every schedule of the clinic, by key ("acute", "maintenance", "accelerated")."""
    return _load_cached(os.environ.get("TMS_CONSOLE_RESOURCES", ""))


def schedule_for(key: str) -> Schedule:
    schedules = load_schedules()
    if key not in schedules:
        raise ScheduleError(
            f"The course schedule {key!r} is not one of the clinic's schedules ({', '.join(schedules)})."
        )
    return schedules[key]


# --- the course as given so far -------------------------------------------------------------------


@dataclass(frozen=True)
class _Course:
    schedule: Schedule
    planned: int
    opened: date
    closed: date | None
    starts: tuple[datetime, ...]  # counted sessions, local aware times, in order
    ends: tuple[datetime | None, ...] = ()  # each counted session's end (None: not recorded yet)


def _local(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone()


def _aware(now: datetime) -> datetime:
    return now.astimezone() if now.tzinfo is None else now


def _course(db: sqlite_utils.Database, course_id: int) -> _Course:
    row = db.execute(
        "SELECT schedule, planned_sessions, opened_at, closed_at FROM courses WHERE id = ?", [course_id]
    ).fetchone()
    if row is None:
        raise ScheduleError(f"There is no course {course_id}.")
    rows = db.execute(
        "SELECT s.started_at, s.ended_at FROM sessions s WHERE s.course_id = ? AND (s.pulses_delivered > 0 "
        "OR s.status IN ('recording', 'completed') "
        "OR EXISTS (SELECT 1 FROM pulses p WHERE p.session_id = s.id)) ORDER BY s.started_at",
        [course_id],
    ).fetchall()
    return _Course(
        schedule_for(row[0]),
        int(row[1]),
        _local(row[2]).date(),
        _local(row[3]).date() if row[3] else None,
        tuple(_local(r[0]) for r in rows),
        tuple(_local(r[1]) if r[1] else None for r in rows),
    )


def _phase_at(plan: list[tuple[Phase, int]], given: int) -> Phase | None:
    """The phase the next session belongs to, after ``given`` sessions."""
    bound = 0
    for phase, n in plan:
        bound += n
        if given < bound:
            return phase
    return None


def _walk(course: _Course, until: date) -> list[DayPlan]:
    """The plan of every day from the first session to ``until`` (inclusive)."""
    plan = course.schedule.plan(course.planned)
    per_day = Counter(s.date() for s in course.starts)
    first = course.starts[0].date() if course.starts else until
    last_day = min(until, course.closed) if course.closed else until
    days = []
    given = 0
    last_session_day: date | None = None
    interval_due: date | None = None
    d = min(first, until)
    while d <= last_day:
        phase = _phase_at(plan, given)
        planned = 0
        if phase is not None:
            if phase.interval_days is not None:
                if interval_due is None:
                    interval_due = (
                        last_session_day + timedelta(days=phase.interval_days) if last_session_day else d
                    )
                planned = 1 if d == interval_due or (d > interval_due and per_day[d]) else 0
            elif phase.weekdays is not None and d.weekday() in phase.weekdays:
                planned = min(phase.per_day, course.planned - given)
        done = per_day[d]
        days.append(DayPlan(d, planned, done, phase.name if phase else None, given, course.planned))
        given += done
        if done:
            last_session_day = d
            interval_due = None
        d += timedelta(days=1)
    return days


def sessions_due(db: sqlite_utils.Database, course_id: int, on: date) -> DayPlan:
    """What the schedule plans on ``on``: sessions planned, given so far that day, the phase.

    A maintenance booster that is overdue is due every day until it is given;
    a closed course plans nothing after it closed.
    """
    course = _course(db, course_id)
    if course.closed is not None and on > course.closed:
        given = sum(1 for s in course.starts if s.date() < on)
        done = sum(1 for s in course.starts if s.date() == on)
        return DayPlan(on, 0, done, None, given, course.planned)
    today = _walk(course, on)[-1]
    if today.planned == 0 and today.done == 0 and not today.course_complete:
        phase = _phase_at(course.schedule.plan(course.planned), today.sessions_given)
        if phase is not None and phase.interval_days is not None and _overdue(course, phase, on):
            return DayPlan(on, 1, 0, today.phase, today.sessions_given, course.planned)
    return today


def _overdue(course: _Course, phase: Phase, on: date) -> bool:
    before = [s.date() for s in course.starts if s.date() < on]
    if not before:
        return True
    return on >= before[-1] + timedelta(days=phase.interval_days or 0)


def missed_sessions(db: sqlite_utils.Database, course_id: int, today: date) -> list[date]:
    """Each session the schedule planned before ``today`` that was not given, by its day
    (a day appears once per missed session: an accelerated day with 8 of 10 given appears twice)."""
    course = _course(db, course_id)
    if not course.starts:
        return []
    missed: list[date] = []
    for day in _walk(course, today - timedelta(days=1)):
        missed.extend([day.day] * max(day.planned - day.done, 0))
    return missed


def _today_starts(course: _Course, now: datetime) -> list[datetime]:
    return [s for s in course.starts if s.date() == now.date() and s <= now]


def _gap_from(course: _Course, phase: Phase, previous_start: datetime) -> datetime:
    """Where the minimum gap counts from: the previous session's end when the phase says so and
    the end is recorded, else its start."""
    if phase.gap_from_end:
        ends = dict(zip(course.starts, course.ends, strict=False))
        end = ends.get(previous_start)
        if end is not None and end > previous_start:
            return end
    return previous_start


def early_start_check(db: sqlite_utils.Database, course_id: int, now: datetime) -> EarlyStart | None:
    """Whether a session starting at ``now`` is sooner than the schedule allows (None: it is not).

    Beyond the day's planned sessions (the 11th of an accelerated day, a 2nd
    on an acute day), or sooner after the previous session's start than the
    schedule's minimum gap (50 minutes accelerated): the technician must give a
    reason (:func:`record_early_start`) to go on.
    """
    now = _aware(now).astimezone()
    course = _course(db, course_id)
    today = _today_starts(course, now)
    given_before = sum(1 for s in course.starts if s < now)
    phase = _phase_at(course.schedule.plan(course.planned), given_before)
    if phase is None:
        return EarlyStart(
            "extra_session",
            f"The course's {course.planned} planned sessions have all been given.",
            len(today) + 1,
        )
    n = len(today) + 1
    if len(today) >= phase.per_day:
        per = "session" if phase.per_day == 1 else "sessions"
        return EarlyStart(
            "extra_session",
            f"This would be session {n} today; the {course.schedule.name} schedule plans "
            f"{phase.per_day} {per} a day.",
            n,
        )
    if today and phase.min_gap_min is not None:
        gap = timedelta(minutes=phase.min_gap_min)
        since_at = _gap_from(course, phase, today[-1])
        since = now - since_at
        if since < gap:
            minutes = max(int(since.total_seconds() // 60), 0)
            next_at = (since_at + gap).strftime("%H:%M")
            ended = since_at != today[-1]
            return EarlyStart(
                "too_soon",
                f"The previous session {'ended' if ended else 'started'} {minutes} minutes ago; the schedule "
                f"asks for {phase.min_gap_min:g} minutes from the {'end' if ended else 'start'} of one "
                f"session to the start of the next (next at {next_at}).",
                n,
                gap - since,
            )
    return None


def next_session_countdown(db: sqlite_utils.Database, course_id: int, now: datetime) -> timedelta | None:
    """Time until the next session of the day may start (zero when it may start now); None when
    the schedule has no minimum gap, no session has been given today, or the day's sessions are done."""
    now = _aware(now).astimezone()
    course = _course(db, course_id)
    today = _today_starts(course, now)
    phase = _phase_at(course.schedule.plan(course.planned), sum(1 for s in course.starts if s < now))
    if not today or phase is None or phase.min_gap_min is None or len(today) >= phase.per_day:
        return None
    return max(_gap_from(course, phase, today[-1]) + timedelta(minutes=phase.min_gap_min) - now, timedelta(0))


def record_early_start(
    db: sqlite_utils.Database, user: User, course_id: int, early: EarlyStart, reason: str
) -> int:
    """Keep the technician's reason for starting sooner than the schedule allows; returns the override
    id (link it to the session with :func:`console.safety.overrides.attach_to_session` once the session
    exists)."""
    require(user, "record_session")
    return overrides.record(
        db, user, "schedule", Scope.course(course_id), [early.as_violation()], reason, signed=False
    )


EXTRA_SESSION_ACTION = "sign_extra_session"
"""The permission a session beyond the day's plan takes: a physician's (console.people.permissions)."""


def sign_extra_session(
    db: sqlite_utils.Database, physician: User, password: str, course_id: int, early: EarlyStart, reason: str
) -> int:
    """A physician's signed override for a session beyond the day's plan (issue 14, item 10): a
    technician's reason is not enough for an 11th accelerated session or a 2nd acute one. Returns
    the override id; raises ClinicError for a signer who is not a physician, a wrong password or
    no reason."""
    if early.kind != "extra_session":
        raise ScheduleError("Only a session beyond the day's plan needs a physician's signature.")
    reason = (reason or "").strip()
    if not reason:
        raise ScheduleError("Write the physician's reason for the extra session: it is kept with the record.")
    signer = confirm_signer(db, physician, password, EXTRA_SESSION_ACTION,
                            purpose="physician's override for a session beyond the day's plan")
    return overrides.record(
        db, signer, "schedule", Scope.course(course_id), [early.as_violation()], reason, signed=True
    )
