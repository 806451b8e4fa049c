"""The chair's start procedure without widgets: the gate's overrides asked one at a time, recorded,
then the plan; a blocker refuses in the gate's words; the overrides go with the session's record."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from console.clinic import records as clinic
from console.errors import ClinicError
from console.safety import overrides, screening
from console.safety.start_gate import OverrideKind, gate_for_patient
from console.session.start_procedure import StartProcedure, StartRefused
from tests.clinical.conftest import PASSWORDS, add_session, open_course


def screened(db, people, patient) -> None:
    answers = {i.id: "no" for i in screening.load_questionnaire().items}
    screening.record_screening(db, people["tom"], patient.id, answers)


def test_each_override_is_asked_in_turn_then_the_session_is_planned(db, people, patient) -> None:
    screened(db, people, patient)
    clinic.record_motor_threshold(db, patient.id, 50, "EMG", None, "tom")
    course = open_course(db, patient.id, percent_mt=130)  # above the clinic's 120 % MT
    add_session(db, course, datetime.now() - timedelta(hours=1))  # and a 2nd session today
    procedure = StartProcedure(db, people["tom"], patient)
    need = procedure.next_question()
    assert need.kind is OverrideKind.SAFETY_LIMIT and "130 % MT" in need.problems[0]
    with pytest.raises(StartRefused):
        procedure.plan()  # nothing is planned past an override not given
    with pytest.raises(Exception, match="technician"):
        procedure.sign_limit_override("tom", PASSWORDS["tom"], "agreed")
    with pytest.raises(ClinicError, match="no user"):
        procedure.sign_limit_override("nobody", "x", "agreed")
    signed = procedure.sign_limit_override("phil", PASSWORDS["phil"], "titration agreed")
    need = procedure.next_question()
    assert need.kind is OverrideKind.EXTRA_SESSION and "session 2 today" in need.problems[0]
    reason = procedure.sign_extra_session("phil", PASSWORDS["phil"], "make-up for Monday")
    assert procedure.next_question() is None
    plan = procedure.plan()
    assert plan.course_id == course.id and plan.prescribed_mso == 65
    session_id = add_session(db, course, datetime.now(), status="recording", pulses=0)
    procedure.attach(session_id)
    assert sorted(o.id for o in overrides.for_session(db, session_id)) == sorted([signed, reason])
    assert gate_for_patient(db, patient.id).needs(OverrideKind.SAFETY_LIMIT)  # not for the next one


def test_a_blocker_refuses_in_the_gates_words(db, people, patient) -> None:
    screened(db, people, patient)
    open_course(db, patient.id)
    procedure = StartProcedure(db, people["tom"], patient)
    with pytest.raises(StartRefused) as refused:
        procedure.next_question()
    assert str(refused.value) == gate_for_patient(db, patient.id).blockers[0].message
    with pytest.raises(StartRefused):
        procedure.plan()


def test_the_intensity_reason_is_asked_only_when_the_device_differs(db, people, patient) -> None:
    screened(db, people, patient)
    clinic.record_motor_threshold(db, patient.id, 45, "EMG", None, "tom")
    course = open_course(db, patient.id)  # 54 % MSO
    procedure = StartProcedure(db, people["tom"], patient)
    assert procedure.next_question() is None
    procedure.plan()
    assert procedure.intensity_need(54) is None
    need = procedure.intensity_need(50)
    assert need.kind is OverrideKind.INTENSITY and "50 % MSO" in need.problems[0]
    session_id = add_session(db, course, datetime.now(), status="recording", pulses=0)
    override_id = procedure.give_intensity_reason(session_id, 50, "scalp pain at 54 yesterday")
    assert [o.id for o in overrides.for_session(db, session_id)] == [override_id]
