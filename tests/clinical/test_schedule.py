"""Course schedules: the SNT day (10 sessions 50 minutes apart), acute days and taper,
maintenance boosters, missed sessions, early starts that need a reason."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from console.safety import overrides
from console.safety.schedule import (
    early_start_check,
    load_schedules,
    missed_sessions,
    next_session_countdown,
    record_early_start,
    sessions_due,
)
from tests.clinical.conftest import add_session, open_course

MONDAY = date(2026, 3, 2)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm)


def test_the_shipped_schedules() -> None:
    s = load_schedules()
    assert set(s) == {"acute", "maintenance", "accelerated"}
    assert [n for _, n in s["acute"].plan(36)] == [30, 3, 2, 1]
    accel = s["accelerated"].phases[0]
    assert (accel.per_day, accel.min_gap_min) == (10, 50)


def test_snt_day_the_eleventh_session_asks_for_a_reason(db, people, patient) -> None:
    course = open_course(
        db, patient.id, protocol="accel-itbs", percent_mt=90, planned_sessions=50, schedule="accelerated"
    )
    for n in range(10):
        add_session(db, course, at(MONDAY, 8) + timedelta(minutes=50 * n), pulses=1800)
    early = early_start_check(db, course.id, at(MONDAY, 17, 0))
    assert early is not None and early.kind == "extra_session"
    assert "session 11 today" in early.message and "10 sessions a day" in early.message
    assert next_session_countdown(db, course.id, at(MONDAY, 17, 0)) is None
    # The next day starts afresh.
    assert early_start_check(db, course.id, at(MONDAY + timedelta(days=1), 8)) is None

    override_id = record_early_start(
        db, people["tom"], course.id, early, "patient leaves tomorrow; psychiatrist agreed to an 11th session"
    )
    [o] = overrides.for_course(db, course.id)
    assert o.id == override_id and o.kind == "schedule" and o.by_user == "tom"
    assert o.violations == [{"code": "extra_session", "message": early.message}]


def test_snt_day_a_session_30_minutes_after_the_previous_asks_for_a_reason(db, patient) -> None:
    course = open_course(
        db, patient.id, protocol="accel-itbs", percent_mt=90, planned_sessions=50, schedule="accelerated"
    )
    for n in range(3):
        add_session(db, course, at(MONDAY, 8) + timedelta(minutes=50 * n), pulses=1800)
    previous = at(MONDAY, 9, 40)
    early = early_start_check(db, course.id, previous + timedelta(minutes=30))
    assert early is not None and early.kind == "too_soon"
    assert "30 minutes ago" in early.message and "10:30" in early.message
    assert early.wait == timedelta(minutes=20)
    assert next_session_countdown(db, course.id, previous + timedelta(minutes=30)) == timedelta(minutes=20)
    assert early_start_check(db, course.id, previous + timedelta(minutes=50)) is None
    assert next_session_countdown(db, course.id, previous + timedelta(minutes=55)) == timedelta(0)


def test_a_session_that_ended_without_a_pulse_does_not_count(db, patient) -> None:
    course = open_course(
        db, patient.id, protocol="accel-itbs", percent_mt=90, planned_sessions=50, schedule="accelerated"
    )
    add_session(db, course, at(MONDAY, 8), pulses=1800)
    add_session(db, course, at(MONDAY, 8, 50), status="aborted", pulses=0)
    assert early_start_check(db, course.id, at(MONDAY, 8, 55)) is None
    assert sessions_due(db, course.id, MONDAY).done == 1


def test_acute_missed_weekday_is_visible_and_weekends_are_not_missed(db, patient) -> None:
    course = open_course(db, patient.id)
    for day in (0, 1, 3, 4, 7):  # Mon, Tue, Thu, Fri, next Mon; Wednesday missed
        add_session(db, course, at(MONDAY + timedelta(days=day), 9))
    assert missed_sessions(db, course.id, MONDAY + timedelta(days=8)) == [MONDAY + timedelta(days=2)]
    plan = sessions_due(db, course.id, MONDAY + timedelta(days=8))
    assert (plan.planned, plan.done, plan.sessions_given) == (1, 0, 5)
    assert sessions_due(db, course.id, MONDAY + timedelta(days=5)).planned == 0  # Saturday


def test_acute_second_session_in_a_day_asks_for_a_reason(db, patient) -> None:
    course = open_course(db, patient.id)
    add_session(db, course, at(MONDAY, 9))
    early = early_start_check(db, course.id, at(MONDAY, 14))
    assert early is not None and "session 2 today" in early.message


def test_acute_taper_follows_the_sessions_given(db, patient) -> None:
    course = open_course(db, patient.id)
    day = MONDAY
    given = 0
    while given < 30:
        if day.weekday() < 5:
            add_session(db, course, at(day, 9))
            given += 1
        day += timedelta(days=1)
    # 30 weekdays from a Monday end on a Friday; the taper's first week is Mon / Wed / Fri.
    monday = day + timedelta(days=(7 - day.weekday()) % 7)
    assert sessions_due(db, course.id, monday).phase == "taper week 1"
    assert sessions_due(db, course.id, monday).planned == 1
    assert sessions_due(db, course.id, monday + timedelta(days=1)).planned == 0
    assert missed_sessions(db, course.id, monday) == []


def test_maintenance_booster_is_due_after_the_interval_and_missed_once(db, patient) -> None:
    course = open_course(db, patient.id, planned_sessions=6, schedule="maintenance")
    add_session(db, course, at(MONDAY, 9))
    assert sessions_due(db, course.id, MONDAY + timedelta(days=27)).planned == 0
    assert sessions_due(db, course.id, MONDAY + timedelta(days=28)).planned == 1
    assert sessions_due(db, course.id, MONDAY + timedelta(days=35)).planned == 1  # overdue stays due
    assert missed_sessions(db, course.id, MONDAY + timedelta(days=40)) == [MONDAY + timedelta(days=28)]
    add_session(db, course, at(MONDAY + timedelta(days=40), 9))
    assert sessions_due(db, course.id, MONDAY + timedelta(days=41)).planned == 0


def test_a_closed_course_plans_nothing(db, people, patient) -> None:
    from console.clinic import patient_records

    course = open_course(db, patient.id)
    patient_records.close_course(db, people["sue"], course.id, "patient moved away")
    assert sessions_due(db, course.id, date.today() + timedelta(days=3)).planned == 0


@pytest.mark.parametrize("schedule", ["acute", "maintenance", "accelerated"])
def test_a_course_without_sessions_has_nothing_missed(db, patient, schedule) -> None:
    course = open_course(db, patient.id, schedule=schedule)
    assert missed_sessions(db, course.id, MONDAY + timedelta(days=30)) == []
    assert early_start_check(db, course.id, at(MONDAY, 9)) is None
