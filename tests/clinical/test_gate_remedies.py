"""Who clears each start-gate blocker, and what a motor threshold does to the prescription,
as plain domain answers (issue 20, items 3 and 17): the chair's words come from here."""

from __future__ import annotations

import pytest

from console.clinic import records as clinic
from console.people.permissions import allowed, roles_for, who_may
from console.safety.start_gate import Blocker, gate_for_patient, prescription_problems
from tests.clinical.conftest import open_course

KNOWN_CODES = ("no_course", "course_closed", "protocol_not_preset", "above_device_max",
               "limits_unreadable", "no_motor_threshold", "screening")


def test_who_may_names_the_roles_in_words() -> None:
    assert who_may("record_screening") == "a technician, a supervisor or a physician"
    assert who_may("manage_patients") == "a supervisor, a physician or an admin"
    assert who_may("clear_screening") == "a physician"


@pytest.mark.parametrize("code", KNOWN_CODES)
def test_every_blocker_names_who_clears_it_and_where(code: str) -> None:
    blocker = Blocker(code, "Something blocks the start.")
    remedy = blocker.remedy
    assert remedy is not None
    words = blocker.with_remedy()
    assert words.startswith("Something blocks the start.\nWho can clear this: ")
    if remedy.action is not None:
        assert who_may(remedy.action) in words
        assert "Patients screen" in words or "Chair" in words


def test_a_clearance_blocker_is_the_physicians_and_a_missing_screening_anyones_clinical() -> None:
    clearance = Blocker("screening", "Absolute contraindication answered yes: … it blocks the course "
                                     "until a physician's signed review clears it.").remedy
    missing = Blocker("screening", "No safety screening has been recorded for this patient.").remedy
    assert clearance is not None and roles_for(clearance.action) == {"physician"}
    assert clearance.offer == "clearance"
    assert missing is not None and missing.action == "record_screening" and missing.offer == "screening"


def test_a_new_patients_blockers_each_say_who(db, people, patient) -> None:
    open_course(db, patient.id)
    gate = gate_for_patient(db, patient.id)
    assert {b.code for b in gate.blockers} == {"screening", "no_motor_threshold"}
    for blocker in gate.blockers:
        assert blocker.remedy is not None and allowed(people["tom"], blocker.remedy.action)
        assert "Who can clear this: a technician, a supervisor or a physician" in blocker.with_remedy()


def test_prescription_problems_are_the_gates_own_words(db, people, patient) -> None:
    course = open_course(db, patient.id)  # 10 Hz at 120 % MT
    problems = prescription_problems(course, 90.0)
    assert any("108 % MSO, above the device's maximum output of 100 % MSO" in p for p in problems)
    assert prescription_problems(course, 50.0) == []
    clinic.record_motor_threshold(db, patient.id, 90.0, "EMG")
    gate_words = gate_for_patient(db, patient.id).blocker_messages
    assert set(problems) & set(gate_words)  # the same sentence the chair shows

