"""The checks before a session start, together: what blocks, what needs an override, and an
override given today for the course that covers the problem lets the session start."""

from __future__ import annotations

from datetime import datetime, timedelta

from console.clinic import records as clinic
from console.safety import overrides, screening
from console.safety.limits import record_intensity_override, record_override
from console.safety.schedule import sign_extra_session
from console.safety.start_gate import OverrideKind, gate_for_course
from tests.clinical.conftest import PASSWORDS, add_session, open_course

TWENTY_HZ = {"name": "20 Hz", "freq_hz": 20, "pulses_per_train": 40, "trains": 20, "iti_s": 28, "burst": 1}


def ready_patient(db, people, patient) -> clinic.Course:
    answers = {i.id: "no" for i in screening.load_questionnaire().items}
    screening.record_screening(db, people["tom"], patient.id, answers)
    clinic.record_motor_threshold(db, patient.id, 45, "EMG", None, "tom")
    return open_course(db, patient.id)


def test_a_new_patient_is_blocked_by_the_missing_screening_and_threshold(db, patient) -> None:
    course = open_course(db, patient.id)
    checks = gate_for_course(db, course.id)
    assert not checks.can_start
    assert any("screening" in b for b in checks.blocker_messages) and any(
        "motor threshold" in b for b in checks.blocker_messages
    )
    assert checks.phq9_due


def test_a_ready_patient_on_a_shipped_preset_can_start(db, people, patient) -> None:
    course = ready_patient(db, people, patient)
    checks = gate_for_course(db, course.id, device_mso=54)
    assert checks.can_start and checks.prescription.mso == 54
    assert checks.limit_violations == [] and checks.early_start is None and checks.intensity == []


def test_a_protocol_outside_the_limits_starts_only_after_the_physicians_override(
    db, people, patient
) -> None:
    course = ready_patient(db, people, patient)
    checks = gate_for_course(db, course.id, protocol=TWENTY_HZ)
    assert checks.needs(OverrideKind.SAFETY_LIMIT) and not checks.can_start
    override_id = record_override(
        db,
        people["phil"],
        PASSWORDS["phil"],
        ("course", course.id),
        checks.limit_violations,
        "study protocol approved by the ethics board",
    )
    checks = gate_for_course(db, course.id, protocol=TWENTY_HZ)
    assert checks.can_start and checks.override_ids == [override_id]
    longer = TWENTY_HZ | {"pulses_per_train": 60}
    # Not what was signed:
    assert gate_for_course(db, course.id, protocol=longer).needs(OverrideKind.SAFETY_LIMIT)
    session_id = add_session(db, course, datetime.now(), status="recording", pulses=0)
    overrides.attach_to_session(db, checks.override_ids, session_id)
    # Linked to that session, it does not cover the next one.
    assert gate_for_course(
        db, course.id, protocol=TWENTY_HZ, now=datetime.now() + timedelta(days=1)
    ).needs(OverrideKind.SAFETY_LIMIT)


def test_early_start_and_intensity_need_reasons(db, people, patient) -> None:
    course = ready_patient(db, people, patient)
    add_session(db, course, datetime.now() - timedelta(hours=1))
    checks = gate_for_course(db, course.id, device_mso=50)
    assert checks.needs(OverrideKind.EXTRA_SESSION) and checks.needs(OverrideKind.INTENSITY)
    assert not checks.can_start
    # a 2nd session today is beyond the day's plan: a physician signs (issue 14, item 10)
    sign_extra_session(db, people["phil"], PASSWORDS["phil"], course.id, checks.early_start,
                       "second session agreed with Dr. Sue")
    record_intensity_override(db, people["tom"], ("course", course.id), 54, 50, "scalp pain at 54 yesterday")
    assert gate_for_course(db, course.id, device_mso=50).can_start
    assert gate_for_course(db, course.id, device_mso=48).needs(OverrideKind.INTENSITY)  # a new problem
    clinic.close_course(db, course.id, "completed")
    assert "This course is closed." in gate_for_course(db, course.id).blocker_messages
