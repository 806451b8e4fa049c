"""PHQ-9 and clinician-rated totals: item 9 above 0 shows the clinic's prompt; totals, % change,
response and remission computed right over a course; weekly PHQ-9 due."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from console import audit
from console.clinic import outcomes
from console.clinic import records as clinic
from console.clinic.outcomes import OutcomeError, course_outcomes, phq9_due, record_phq9, record_total
from console.people.permissions import PermissionDenied
from resources import load_json
from tests.clinical.conftest import open_course


def items_for(total: int, item9: int = 0) -> list[int]:
    """Nine answers (0-3) adding up to ``total`` with item 9 as given."""
    rest = total - item9
    answers = []
    for _ in range(8):
        take = min(3, rest)
        answers.append(take)
        rest -= take
    assert rest == 0
    return [*answers, item9]


def test_item9_above_zero_shows_the_clinics_prompt(db, people, patient) -> None:
    course = open_course(db, patient.id)
    result = record_phq9(db, people["tom"], patient.id, course.id, items_for(14, item9=1))
    assert result.total == 14 and result.severity == "moderate"
    assert result.safety_prompt is True
    assert result.prompt_text == load_json("outcomes.json")["phq9"]["safety_prompt"]
    calm = record_phq9(db, people["tom"], patient.id, course.id, items_for(14))
    assert calm.safety_prompt is False and calm.prompt_text is None


def test_who_was_told_of_item9_is_recorded(db, people, patient) -> None:
    course = open_course(db, patient.id)
    result = record_phq9(db, people["tom"], patient.id, course.id, items_for(9, item9=2))
    outcomes.record_item9_notification(
        db, people["tom"], result.id, "Dr. Sue Super (supervising psychiatrist)"
    )
    [told] = outcomes.item9_notifications(db, result.id)
    assert told["told_whom"].startswith("Dr. Sue") and told["by_user"] == "tom" and told["told_at"]
    with pytest.raises(OutcomeError, match="who was told"):
        outcomes.record_item9_notification(db, people["tom"], result.id, "  ")


@pytest.mark.parametrize(
    "answers, message",
    [
        ([1] * 8, "9 questions; 8"),
        ([0] * 8 + [4], "question 9"),
        ([0, 1, 2, True, 0, 0, 0, 0, 0], "question 4"),
        ([0.5] + [0] * 8, "question 1"),
    ],
)
def test_bad_phq9_answers_are_refused_plainly(db, people, patient, answers, message) -> None:
    with pytest.raises(OutcomeError, match=message):
        record_phq9(db, people["tom"], patient.id, None, answers)
    assert db.execute("SELECT count(*) FROM outcomes").fetchone()[0] == 0


def test_totals_response_and_remission_over_a_course(db, people, patient) -> None:
    course = open_course(db, patient.id)
    start = datetime(2026, 3, 2, 9)
    only_baseline = None
    for week, total in enumerate([20, 15, 9, 4]):
        record_phq9(
            db, people["tom"], patient.id, course.id, items_for(total), taken_at=start + timedelta(weeks=week)
        )
        if week == 0:
            only_baseline = course_outcomes(db, course.id)
        if week == 2:
            mid = course_outcomes(db, course.id)
    assert (only_baseline.baseline, only_baseline.latest, only_baseline.response) == (20, 20, None)
    assert (mid.baseline, mid.latest, mid.percent_change, mid.response, mid.remission) == (
        20,
        9,
        -55.0,
        True,
        False,
    )
    end = course_outcomes(db, course.id)
    assert (end.latest, end.percent_change, end.response, end.remission) == (4, -80.0, True, True)
    assert [p.total for p in end.series] == [20, 15, 9, 4] and end.response_threshold == 10


def test_a_drop_short_of_half_is_no_response(db, people, patient) -> None:
    course = open_course(db, patient.id)
    record_phq9(db, people["tom"], patient.id, course.id, items_for(21), taken_at="2026-03-02T09:00")
    record_phq9(db, people["tom"], patient.id, course.id, items_for(11), taken_at="2026-03-30T09:00")
    result = course_outcomes(db, course.id)
    assert result.percent_change == -47.6 and result.response is False and result.remission is False


def test_hamd_and_madrs_totals(db, people, patient) -> None:
    course = open_course(db, patient.id)
    record_total(db, people["sue"], patient.id, course.id, "HAM-D", 24, taken_at="2026-03-02T09:00")
    record_total(db, people["sue"], patient.id, course.id, "HAM-D", 7, taken_at="2026-04-13T09:00")
    hamd = course_outcomes(db, course.id, "HAM-D")
    assert (hamd.baseline, hamd.latest, hamd.response, hamd.remission) == (24, 7, True, True)
    with pytest.raises(OutcomeError, match="from 0 to 60"):
        record_total(db, people["sue"], patient.id, course.id, "MADRS", 61)
    with pytest.raises(OutcomeError, match="item by item"):
        record_total(db, people["sue"], patient.id, course.id, "PHQ-9", 12)


def test_phq9_is_due_weekly(db, people, patient) -> None:
    course = open_course(db, patient.id)
    today = date.today()
    assert phq9_due(db, course.id, today)
    record_phq9(db, people["tom"], patient.id, course.id, items_for(12))
    assert not phq9_due(db, course.id, today)
    assert not phq9_due(db, course.id, today + timedelta(days=6))
    assert phq9_due(db, course.id, today + timedelta(days=7))


def test_entries_are_audited_and_need_a_clinical_role(db, people, patient) -> None:
    course = open_course(db, patient.id)
    result = record_phq9(db, people["tom"], patient.id, course.id, items_for(5))
    [row] = audit.history(db, "outcome", result.id)
    assert row["actor"] == "tom" and row["new"]["total"] == 5
    with pytest.raises(PermissionDenied):
        record_phq9(db, people["ada"], patient.id, course.id, items_for(5))
    other = open_course(db, clinic.create_patient(db, "P-2", "Al Bo").id)
    with pytest.raises(OutcomeError, match="not a course of this patient"):
        record_phq9(db, people["tom"], patient.id, other.id, items_for(5))


def test_the_phq9_interval_is_a_clinic_setting(db, people, patient) -> None:
    from console.clinic import settings

    course = open_course(db, patient.id)
    record_phq9(db, people["tom"], patient.id, course.id, items_for(12))
    settings.set_setting(db, "phq9_interval_days", 14, "ada")
    assert not phq9_due(db, course.id, date.today() + timedelta(days=7))
    assert phq9_due(db, course.id, date.today() + timedelta(days=14))
