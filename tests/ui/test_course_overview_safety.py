"""The start-of-day facts gate a session on the safety screening and show the schedule's wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.clinic.records import create_patient, open_course, record_motor_threshold
from console.safety import screening
from console.session.course_overview import overview_for
from db.database import new_uuid, to_utc_iso


def test_a_pacemaker_answer_blocks_the_session_until_cleared(clinic) -> None:
    db = clinic.db
    patient = create_patient(db, "P-2002", "Pat Pacer")
    open_course(db, patient.id, "10hz", 120.0)
    record_motor_threshold(db, patient.id, 50.0, "EMG")
    assert any("No safety screening" in b for b in overview_for(db, patient).blockers)
    answers = {i.id: "no" for i in screening.load_questionnaire().items} | {"pacemaker": "yes"}
    screening.record_screening(db, clinic.technician, patient.id, answers, {"pacemaker": "fitted 2019"})
    plan = overview_for(db, patient)
    assert not plan.can_start and any("physician" in b for b in plan.blockers)
    screening.record_clearance(db, clinic.physician, "phil's long password", patient.id, "cardiology cleared")
    assert overview_for(db, patient).can_start


def test_an_accelerated_day_shows_the_wait_for_the_next_session(clinic) -> None:
    db = clinic.db
    patient = create_patient(db, "P-3003", "Sam Accel")
    course = open_course(db, patient.id, "accel-itbs", 90.0, planned_sessions=50, schedule="accelerated")
    record_motor_threshold(db, patient.id, 55.0, "EMG")
    screening.record_screening(db, clinic.technician, patient.id,
                               {i.id: "no" for i in screening.load_questionnaire().items})
    now = datetime.now(UTC)
    started = now - timedelta(minutes=20)
    db["sessions"].insert({
        "uuid": new_uuid(), "patient_id": patient.id, "course_id": course.id, "number_in_course": 1,
        "status": "completed", "started_at": to_utc_iso(started), "ended_at": to_utc_iso(started),
        "device_url": "sim://", "pulses_delivered": 1800, "pulses_recorded": 1800,
    })
    plan = overview_for(db, patient, now)
    assert any("Next session of the day" in w and "in 30 min" in w for w in plan.warnings)


def test_the_start_of_day_card_follows_the_clock(qtbot, clinic) -> None:
    from console.ui.chair.start_of_day import StartOfDay

    db = clinic.db
    patient = create_patient(db, "P-4004", "Sam Accel")
    course = open_course(db, patient.id, "accel-itbs", 90.0, planned_sessions=50, schedule="accelerated")
    record_motor_threshold(db, patient.id, 55.0, "EMG")
    screening.record_screening(db, clinic.technician, patient.id,
                               {i.id: "no" for i in screening.load_questionnaire().items})
    page = StartOfDay(db)
    qtbot.addWidget(page)
    page.show()
    page.search.setText("P-4004")
    page.refresh()
    assert "Next session" not in page.card.warnings.text()
    started = datetime.now(UTC) - timedelta(minutes=10)
    db["sessions"].insert({
        "uuid": new_uuid(), "patient_id": patient.id, "course_id": course.id, "number_in_course": 1,
        "status": "completed", "started_at": to_utc_iso(started), "ended_at": to_utc_iso(started),
        "device_url": "sim://", "pulses_delivered": 1800, "pulses_recorded": 1800,
    })
    page.refresh_card()  # what the card's timer does every 30 s
    assert "Next session of the day" in page.card.warnings.text()
