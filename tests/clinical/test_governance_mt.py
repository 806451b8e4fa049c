"""Issue 14, item 6: the motor threshold.

Re-measured every 7 days by default (data: the clinic setting's shipped default); an overdue MT
holds the course until it is re-measured or a physician signs an override; each MT keeps the
device, coil type and method it was measured with; a session on another coil type is refused
until re-measured; a medication change answered on the checklist asks for a new MT (or a
physician's override).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from console.clinic import motor_threshold, patient_records, settings
from console.clinic import records as clinic
from console.errors import ClinicError, PermissionDenied
from console.resource_data import load as load_resource
from console.safety import screening, start_gate
from console.safety.start_gate import gate_for_course, gate_for_patient
from console.session.entries import add_checklist
from tests.clinical.conftest import PASSWORDS, add_session, open_course


def screened_course(db, people, patient) -> clinic.Course:
    every = {i.id: "no" for i in screening.load_questionnaire().items}
    screening.record_screening(db, people["tom"], patient.id, every)
    return open_course(db, patient.id)


def measure(db, people, patient, days_ago: float, *, coil: str | None = "figure-8", mso: float = 45) -> None:
    when = datetime.now().astimezone() - timedelta(days=days_ago)
    patient_records.record_motor_threshold(db, people["tom"], patient.id, mso, "EMG", when,
                                           device_model="Sim 100", coil_type=coil)


def codes(gate) -> list[str]:
    return [b.code for b in gate.blockers]


def test_the_remeasure_interval_is_7_days_by_default_as_data() -> None:
    shipped = load_resource("settings_defaults.json")["settings"]["mt_remeasure_days"]
    assert shipped["default"] == 7 and "90869" in shipped["help"]


def test_an_mt_is_kept_with_its_device_coil_and_method(db, people, patient) -> None:
    patient_records.record_motor_threshold(db, people["tom"], patient.id, "52", "visual",
                                           device_model="Sim 100", coil_type="figure-8")
    mt = clinic.latest_motor_threshold(db, patient.id)
    assert mt is not None and (mt.mso, mt.method, mt.device_model, mt.coil_type) == (52, "visual", "Sim 100",
                                                                                    "figure-8")
    assert motor_threshold.measurements(db, patient.id)[0].coil_type == "figure-8"


def test_an_overdue_mt_holds_the_course_until_remeasured_or_a_physician_signs(db, people, patient) -> None:
    course = screened_course(db, people, patient)
    measure(db, people, patient, 6)
    assert gate_for_course(db, course.id).can_start  # within a week
    db.execute("UPDATE motor_thresholds SET measured_at = ?",
               [(datetime.now().astimezone() - timedelta(days=8)).isoformat()])
    for gate in (gate_for_course(db, course.id), gate_for_patient(db, patient.id)):
        assert codes(gate) == ["mt_overdue"] and not gate.can_start
        assert "8 days old" in gate.blockers[0].message and "physician signs an override" in \
            gate.blockers[0].message
        assert gate.blockers[0].remedy.offer == "motor_threshold"  # the chair offers the re-measure
    [hold] = start_gate.holds_to_review(db, patient.id)
    with pytest.raises(PermissionDenied):  # a flag is not enough, and a supervisor is not the physician
        start_gate.sign_hold_review(db, people["sue"], PASSWORDS["sue"], patient.id, hold, "fine")
    with pytest.raises(ClinicError, match="not accepted"):
        start_gate.sign_hold_review(db, people["phil"], "wrong", patient.id, hold, "fine")
    assert not gate_for_course(db, course.id).can_start
    start_gate.sign_hold_review(db, people["phil"], PASSWORDS["phil"], patient.id, hold,
                     "Stable response; re-measure at the next session")
    assert gate_for_course(db, course.id).can_start
    tomorrow = datetime.now().astimezone() + timedelta(days=1)  # the override is for the day it was signed
    assert codes(gate_for_course(db, course.id, now=tomorrow)) == ["mt_overdue"]
    measure(db, people, patient, 0)
    assert gate_for_course(db, course.id, now=tomorrow).can_start  # a new measurement lifts it


def test_the_clinic_setting_moves_the_interval(db, people, patient) -> None:
    course = screened_course(db, people, patient)
    measure(db, people, patient, 10)
    assert codes(gate_for_course(db, course.id)) == ["mt_overdue"]
    settings.set_setting(db, "mt_remeasure_days", 14, "ada")
    assert gate_for_course(db, course.id).can_start


def test_another_coil_type_is_refused_until_remeasured(db, people, patient) -> None:
    course = screened_course(db, people, patient)
    measure(db, people, patient, 1, coil="figure-8")
    assert gate_for_course(db, course.id, coil="Figure-8").can_start
    gate = gate_for_course(db, course.id, coil="H-coil")
    assert codes(gate) == ["mt_other_coil"] and "figure-8" in gate.blockers[0].message
    assert "H-coil" in gate.blockers[0].message and "re-measure" in gate.blockers[0].message
    assert start_gate.holds_to_review(db, patient.id) == []  # no override: only a measurement helps
    hold = motor_threshold.MtHold("mt_other_coil", 1, "")
    with pytest.raises(ClinicError, match="cannot be overridden"):
        motor_threshold.lift_mt_hold(db, people["phil"], PASSWORDS["phil"], hold, patient.id, course.id, "ok")
    measure(db, people, patient, 0, coil="H-coil")
    assert gate_for_course(db, course.id, coil="H-coil").can_start


def test_a_medication_change_asks_for_a_new_mt_or_a_physicians_override(db, people, patient) -> None:
    course = screened_course(db, people, patient)
    measure(db, people, patient, 2)
    session = add_session(db, course, datetime.now() - timedelta(days=1))
    add_checklist(db, people["tom"], session, [
        {"id": "medication_change", "question": "Any change in medication since the last session?",
         "answer": "yes", "note": "sertraline raised to 100 mg"},
    ])
    gate = gate_for_course(db, course.id)
    assert "mt_medication" in codes(gate) and not gate.can_start
    assert "medication changed" in next(b.message for b in gate.blockers if b.code == "mt_medication")
    [hold] = [h for h in start_gate.holds_to_review(db, patient.id) if h.kind == "mt_medication"]
    start_gate.sign_hold_review(db, people["phil"], PASSWORDS["phil"], patient.id, hold,
                                "No change expected in MT")
    assert "mt_medication" not in codes(gate_for_course(db, course.id))


def test_a_new_mt_after_the_medication_change_lifts_it(db, people, patient) -> None:
    course = screened_course(db, people, patient)
    measure(db, people, patient, 2)
    session = add_session(db, course, datetime.now() - timedelta(days=1))
    add_checklist(db, people["tom"], session, [
        {"id": "medication_change", "question": "Any change in medication?", "answer": "yes", "note": "new"},
    ])
    assert "mt_medication" in codes(gate_for_course(db, course.id))
    measure(db, people, patient, 0)
    assert "mt_medication" not in codes(gate_for_course(db, course.id))


def test_the_mt_form_keeps_device_and_coil_and_the_physician_overrides_in_the_hold_form(
        qtbot, db, people, patient) -> None:
    from console.ui.clinic.mt_dialog import MtDialog

    course = screened_course(db, people, patient)
    form = MtDialog(db, people["tom"], patient.id)
    qtbot.addWidget(form)
    form.show()
    form.measured.setDateTime(form.measured.dateTime().addDays(-9))
    qtbot.keyClicks(form.value, "47")
    qtbot.keyClicks(form.device, "Sim 100")
    qtbot.keyClicks(form.coil, "figure-8")
    form.visual.setChecked(True)
    qtbot.mouseClick(form.ok, Qt.MouseButton.LeftButton)
    mt = clinic.latest_motor_threshold(db, patient.id)
    assert mt is not None and (mt.mso, mt.method, mt.device_model, mt.coil_type) == (47, "visual", "Sim 100",
                                                                                    "figure-8")
    again = MtDialog(db, people["tom"], patient.id)  # the next form starts from the same device and coil
    qtbot.addWidget(again)
    assert (again.device.text(), again.coil.text()) == ("Sim 100", "figure-8")
    assert "figure-8 coil" in again.context.text()
    assert codes(gate_for_course(db, course.id)) == ["mt_overdue"]

    from console.ui.clinic.hold_review_dialog import HoldReviewDialog

    dialog = HoldReviewDialog(db, people["phil"], patient.id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.hold.currentText() == "Motor threshold overdue" and "9 days old" in dialog.detail.text()
    qtbot.keyClicks(dialog.password, PASSWORDS["phil"])
    qtbot.keyClicks(dialog.decision, "Re-measure on Monday; go on today")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and gate_for_course(db, course.id).can_start
