"""The patients and courses screens, driven like a person would (pytest-qt, offscreen): create a
patient, open a course with the screening, record an MT; bad input gives a clear message in the
form, which stays open with what was typed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from console import audit
from console.clinic import records as clinic
from console.safety import screening
from console.ui.clinic.course_editor import CourseEditorDialog
from console.ui.clinic.mt_dialog import MtDialog
from console.ui.clinic.patient_dialog import PatientDialog
from console.ui.clinic.patients import PatientsPage
from console.ui.clinic.screening_dialog import ClearanceDialog, ScreeningDialog
from tests.clinical.conftest import PASSWORDS


@pytest.fixture
def page(qtbot, db, people):
    widget = PatientsPage(db, people["sue"])
    qtbot.addWidget(widget)
    widget.resize(1280, 760)
    widget.show()
    return widget


def fill_patient(qtbot, dialog: PatientDialog, clinic_id: str, name: str, dob: str = "") -> None:
    for edit, text in ((dialog.clinic_id, clinic_id), (dialog.name, name), (dialog.date_of_birth, dob)):
        edit.clear()
        qtbot.keyClicks(edit, text)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)


def answer_screening(dialog: ScreeningDialog, yes: dict[str, str] | None = None) -> None:
    yes = yes or {}
    for row in dialog.rows:
        if row.item.id in yes:
            row.yes.click()
            row.note.setText(yes[row.item.id])
        else:
            row.no.click()


def test_create_a_patient_open_a_course_with_the_screening_and_record_an_mt(qtbot, page, db) -> None:
    page.new_patient.click()
    dialog = page.dialog
    assert isinstance(dialog, PatientDialog) and dialog.isVisible()
    fill_patient(qtbot, dialog, "P-0042", "Jane Q. Roe", "1980-04-23")
    assert not dialog.isVisible()
    assert page.table.rowCount() == 1 and page.table.item(0, 0).text() == "P-0042"
    patient = clinic.find_patient(db, "P-0042")
    assert page.selected_patient_id() == patient.id
    assert "No safety screening" in page.summary.screening.text()

    page.action_buttons["open_course"].click()
    editor = page.dialog
    assert isinstance(editor, CourseEditorDialog)
    editor.protocol.setCurrentIndex(editor.protocol.findData("itbs"))
    editor.method.setCurrentIndex(editor.method.findText("Beam F3"))
    assert "Within the clinic's safety limits" in editor.limits_state.text()
    qtbot.mouseClick(editor.ok, Qt.MouseButton.LeftButton)
    course = clinic.active_course(db, patient.id)
    assert (course.protocol, course.targeting_method, course.percent_mt) == ("itbs", "Beam F3", 120)

    screening_dialog = page.dialog  # the screening follows the opening of the course
    assert isinstance(screening_dialog, ScreeningDialog) and screening_dialog.isVisible()
    answer_screening(screening_dialog, {"medications": "sertraline 100 mg"})
    qtbot.mouseClick(screening_dialog.ok, Qt.MouseButton.LeftButton)
    assert not screening_dialog.isVisible()
    # Every yes waits for a physician's signed review (issue 14, item 4).
    assert [screening.REVIEW_PHRASE in b for b in screening.course_start_blockers(db, patient.id)] == [True]
    assert "Physician review" in page.summary.screening.text()

    page.action_buttons["mt"].click()
    mt = page.dialog
    assert isinstance(mt, MtDialog)
    qtbot.keyClicks(mt.value, "45")
    assert "120 % MT = 54 % MSO" in mt.context.text()
    mt.visual.click()
    qtbot.mouseClick(mt.ok, Qt.MouseButton.LeftButton)
    assert clinic.latest_motor_threshold(db, patient.id).mso == 45
    assert "Prescription: 120 % MT = 54 % MSO" in page.summary.mt.text()
    actions = {row["action"] for row in audit.history(db)}
    assert {"create_patient", "open_course", "record_screening", "record_motor_threshold"} <= actions


def test_a_duplicate_clinic_id_is_a_message_not_a_traceback(qtbot, page, db, people) -> None:
    clinic.create_patient(db, "P-0042", "Someone Else")
    page.refresh()
    page.new_patient.click()
    dialog = page.dialog
    fill_patient(qtbot, dialog, "p-0042", "Jane Roe")
    assert dialog.isVisible()
    assert dialog.error.text() == "A patient with clinic id P-0042 already exists."
    assert dialog.name.text() == "Jane Roe"  # what was typed is kept
    fill_patient(qtbot, dialog, "P-0043", "Jane Roe", "23/04/1980")
    assert "not a date like 1980-04-23" in dialog.error.text()
    assert db.execute("SELECT count(*) FROM patients").fetchone()[0] == 1


@pytest.mark.parametrize(
    "typed, message",
    [("150", "between 1 and 100"), ("abc", "as a number"), ("0", "between 1 and 100"), ("", "as a number")],
)
def test_an_mt_out_of_range_is_a_clear_message(qtbot, db, people, patient, typed, message) -> None:
    dialog = MtDialog(db, people["tom"], patient.id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.value, typed)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and message in dialog.error.text()
    assert clinic.latest_motor_threshold(db, patient.id) is None


def test_an_unanswered_question_and_a_yes_without_a_note_are_named(qtbot, db, people, patient) -> None:
    dialog = ScreeningDialog(db, people["tom"], patient.id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.rows[0].no.click()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert f"Answer every question: {len(dialog.rows) - 1} not answered" in dialog.error.text()
    answer_screening(dialog)
    dialog.rows[0].yes.click()
    assert dialog.rows[0].note.isVisibleTo(dialog)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert "Add a note to the yes" in dialog.error.text() and "epilepsy" in dialog.error.text()
    assert db.execute("SELECT count(*) FROM screenings").fetchone()[0] == 0


def test_a_pacemaker_waits_for_the_physicians_signed_clearance(qtbot, db, people) -> None:
    page = PatientsPage(db, people["phil"])
    qtbot.addWidget(page)
    page.resize(1280, 760)
    page.show()
    patient = clinic.create_patient(db, "P-7", "Al Bo")
    page.refresh()
    page.select_patient(patient.id)
    page.action_buttons["screening"].click()
    answer_screening(page.dialog, {"pacemaker": "dual chamber, 2021"})
    qtbot.mouseClick(page.dialog.ok, Qt.MouseButton.LeftButton)
    assert "physician's signed review clears it" in page.summary.screening.text()
    assert page.action_buttons["clearance"].isEnabled()

    page.action_buttons["clearance"].click()
    dialog = page.dialog
    assert isinstance(dialog, ClearanceDialog) and dialog.username.text() == "phil"
    qtbot.keyClicks(dialog.password, "wrong")
    qtbot.keyClicks(dialog.reason, "Cardiology letter: cleared for TMS")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "not accepted" in dialog.error.text() and dialog.password.text() == ""
    qtbot.keyClicks(dialog.password, PASSWORDS["phil"])
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert screening.course_start_blockers(db, patient.id) == []
    assert not page.action_buttons["clearance"].isEnabled()


def test_a_technician_cannot_use_the_clearance_button(qtbot, db, people) -> None:
    page = PatientsPage(db, people["tom"])
    qtbot.addWidget(page)
    patient = clinic.create_patient(db, "P-8", "Cy Do")
    screening.record_screening(
        db,
        people["tom"],
        patient.id,
        {i.id: "no" for i in screening.load_questionnaire().items} | {"pacemaker": "yes"},
    )
    page.refresh()
    page.select_patient(patient.id)
    assert page.action_buttons["screening"].isEnabled() and not page.action_buttons["clearance"].isEnabled()


def test_the_course_editor_warns_of_limits_and_needs_the_pose_for_neuronavigation(
    qtbot, db, people, patient
) -> None:
    clinic.record_motor_threshold(db, patient.id, 60, "EMG", None, "tom")
    dialog = CourseEditorDialog(db, people["sue"], patient.id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.percent_mt.setValue(140)
    assert "Outside the clinic's safety limits" in dialog.limits_state.text()
    assert "above the clinic's maximum of 120 % MT" in dialog.limits_state.text()
    dialog.percent_mt.setValue(120)
    assert "72 % MSO" in dialog.limits_state.text()
    dialog.method.setCurrentIndex(dialog.method.findText("Neuronavigation"))
    assert dialog.pose_box.isVisibleTo(dialog)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert "needs the target pose" in dialog.error.text()
    for key, value in zip(
        ("x", "y", "z", "qw", "qx", "qy", "qz"), ("-42", "38.5", "61", "1", "0", "0", "0"), strict=True
    ):
        dialog.pose[key].setText(value)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert clinic.active_course(db, patient.id).target_pose["y"] == 38.5
