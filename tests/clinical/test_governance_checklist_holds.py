"""Issue 14, items 4, 6 and 10: a checklist answer that needs a physician, and a medication change
answered on the checklist, hold the course from the moment they are given.

Before, a "yes" to a new seizure or to thoughts of self-harm stopped the session on the checklist
page and nothing more: Back, then Begin again (or tomorrow) started as if nothing had been said,
and no physician was ever asked. A medication change counted only once its session existed, so it
held the next session, not the one it was answered for.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.clinic import records as clinic
from console.errors import ClinicError
from console.people.permissions import PermissionDenied
from console.resource_data.lists import checklist_items
from console.safety import screening
from console.safety.checklist_holds import checklists_on_hold, keep_checklist
from console.safety.start_gate import gate_for_patient, holds_to_review, sign_hold_review
from console.session.start_procedure import StartProcedure, StartRefused
from console.ui.chair.technician import TechnicianWorkspace
from console.ui.clinic.hold_review_dialog import HoldReviewDialog
from tests.clinical.conftest import PASSWORDS
from tests.ui.conftest import make_clinic
from tests.ui.drive import choose_patient, show


def _answers(**special: str) -> list[dict[str, str]]:
    """Every question of the clinic's checklist answered the uneventful way, unless said otherwise."""
    out = []
    for item in checklist_items():
        answer = special.get(item["id"], "yes" if "no" in item["note_on"] else "no")
        note = "told the technician" if answer in item["note_on"] else ""
        out.append({"id": item["id"], "question": item["question"], "answer": answer, "note": note})
    return out


@pytest.fixture
def ready(db, people, patient) -> clinic.Course:
    screening.record_screening(db, people["tom"], patient.id,
                               {item.id: "no" for item in screening.load_questionnaire().items})
    course = clinic.open_course(db, patient.id, "10hz", 110, planned_sessions=36, schedule="acute")
    clinic.record_motor_threshold(db, patient.id, 50, "EMG")
    assert gate_for_patient(db, patient.id).can_start
    return course


def test_a_yes_for_a_physician_holds_the_course_until_a_physician_signs(db, people, patient, ready) -> None:
    kept = keep_checklist(db, people["tom"], patient.id, ready.id,
                          _answers(seizure_fall_head_injury="yes"))
    assert [h.item_id for h in kept.holds] == ["seizure_fall_head_injury"]
    gate = gate_for_patient(db, patient.id)
    [blocker] = gate.blockers
    assert blocker.code == "checklist_hold" and "on hold" in blocker.message
    assert "seizure" in blocker.message.lower() and "told the technician" in blocker.message
    assert "Hold review" in blocker.with_remedy() and "physician" in blocker.with_remedy()
    # Begin again: the chair refuses in the same words (record asks the same gate)
    with pytest.raises(StartRefused, match="on hold"):
        StartProcedure(db, people["tom"], patient).next_question()

    [hold] = holds_to_review(db, patient.id)
    assert hold.kind == "checklist_hold" and hold.subject_id == kept.id
    with pytest.raises(PermissionDenied):
        sign_hold_review(db, people["sue"], PASSWORDS["sue"], patient.id, hold, "seen, go on")
    sign_hold_review(db, people["phil"], PASSWORDS["phil"], patient.id, hold,
                     "Seen in clinic: a fall without head injury; treatment may go on")
    assert gate_for_patient(db, patient.id).can_start
    assert checklists_on_hold(db, patient.id, ready.id) == []
    with pytest.raises(ClinicError, match="already reviewed"):
        sign_hold_review(db, people["phil"], PASSWORDS["phil"], patient.id, hold, "again")


def test_an_uneventful_checklist_holds_nothing(db, people, patient, ready) -> None:
    kept = keep_checklist(db, people["tom"], patient.id, ready.id, _answers())
    assert kept.holds == () and gate_for_patient(db, patient.id).can_start
    assert db.execute("SELECT count(*) FROM pre_session_checklists").fetchone()[0] == 1
    with pytest.raises(Exception, match="append-only"):
        db.execute("DELETE FROM pre_session_checklists")


def test_a_medication_change_holds_this_session_until_the_mt_is_measured_again(
    db, people, patient, ready,
) -> None:
    procedure = StartProcedure(db, people["tom"], patient)
    assert procedure.next_question() is None
    procedure.keep_checklist(_answers(medication_change="yes"))
    with pytest.raises(StartRefused, match="medication changed"):
        procedure.plan()  # this session, not only the next one
    # re-measured at the chair: this session may go on, and answering "yes" again at the next try
    # of the same day (the question is "since the last session") is the same change
    clinic.record_motor_threshold(db, patient.id, 51, "EMG")
    again = StartProcedure(db, people["tom"], patient)
    assert again.next_question() is None
    again.keep_checklist(_answers(medication_change="yes"))
    assert again.plan() is not None


def test_at_the_chair_hold_for_the_physician_keeps_the_checklist_and_the_card_says_so(
    qtbot, tmp_path, fast_hasher,
) -> None:
    c = make_clinic(tmp_path / "clinic.db")
    ws = TechnicianWorkspace(c.db, c.path, c.technician)
    show(qtbot, ws)
    try:
        choose_patient(qtbot, ws, "P-1001")
        page = ws.checklist
        for item in page.items:
            want = "yes" if item.item_id == "self_harm_thoughts" or "no" in item.note_on else "no"
            qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Y if want == "yes" else Qt.Key.Key_N)
            if item.needs_note:
                qtbot.keyClicks(item.note, "said so when asked")
                qtbot.keyClick(item.note, Qt.Key.Key_Return)
        assert not page.proceed.isVisible()
        assert page.hold.isVisible() and page.hold.isEnabled()
        assert QApplication.focusWidget() is page.hold
        qtbot.keyClick(page.hold, Qt.Key.Key_Return)  # Enter, as for Continue
        qtbot.waitUntil(lambda: ws.currentWidget() is ws.start_page, timeout=5000)
        ws.start_page.search.setText("P-1001")
        ws.start_page.refresh()
        qtbot.waitUntil(lambda: "on hold" in ws.start_page.card.blockers.text(), timeout=5000)
        assert not ws.start_page.card.begin.isEnabled()
        assert "self-harm" in ws.start_page.card.blockers.text()
        [(by, holds)] = c.db.execute("SELECT by_user, holds FROM pre_session_checklists").fetchall()
        assert by == "tina" and holds == '["self_harm_thoughts"]'
    finally:
        ws.shutdown()

    # The physician's review, in the dialog the Patients screen opens, lifts it.
    dialog = HoldReviewDialog(c.db, c.physician, c.patient.id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.hold.currentText() == "Checklist answer for a physician"
    assert "self-harm" in dialog.detail.text()
    qtbot.keyClicks(dialog.password, "phil's long password")
    qtbot.keyClicks(dialog.decision, "Seen today: passive thoughts, safety plan agreed; go on")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible(), dialog.error.text()
    assert gate_for_patient(c.db, c.patient.id).can_start
    c.db.close()
