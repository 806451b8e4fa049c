"""Issue 14, item 4: the screening needs the physician's decision.

Rossi 2011: every "yes" needs the treating physician's risk/benefit decision. The
start gate blocks on each until a physician signs a review (saying who can and
where); implanted infusion pumps, ICDs and wearable defibrillators are asked by
name; dental work is not "metal in the head"; the questionnaire is cited as Rossi
2009 §7.5 with the 2011 revision; a clinic adds items as data; a screening is per
course and ends at a new implant or a medication change recorded at the checklist.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from console.clinic import records as clinic
from console.people.permissions import PermissionDenied
from console.resource_data import clear_cache
from console.safety import screening
from console.safety.start_gate import gate_for_course
from console.session.entries import add_checklist
from console.ui.clinic.screening_dialog import ClearanceDialog, ScreeningDialog
from console.ui.widgets.theme import style_sheet
from tests.clinical.conftest import PASSWORDS, add_session, open_course

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "physician-review.png"


def all_no(**yes: str) -> dict[str, str]:
    return {item.id: "no" for item in screening.load_questionnaire().items} | {k: "yes" for k in yes}


def ready_course(db, patient, **course) -> clinic.Course:
    clinic.record_motor_threshold(db, patient.id, 45, "EMG", None, "tom")
    return open_course(db, patient.id, **course)


@pytest.mark.parametrize("item_id", ["epilepsy", "head_trauma", "pregnancy", "medications"])
def test_every_yes_waits_for_a_physicians_signed_review(db, people, patient, item_id: str) -> None:
    course = ready_course(db, patient)
    screening.record_screening(db, people["tom"], patient.id, all_no(**{item_id: "yes"}),
                               {item_id: "what the patient said"})
    gate = gate_for_course(db, course.id)
    assert not gate.can_start
    [blocker] = gate.blockers
    assert blocker.code == "screening" and screening.REVIEW_PHRASE in blocker.message
    assert "Who can clear this: a physician, with “Physician review”" in blocker.with_remedy()
    # A note is not enough, and the lead technician cannot decide it.
    with pytest.raises(PermissionDenied):
        screening.record_clearance(db, people["sue"], PASSWORDS["sue"], patient.id, "looks fine")
    assert not gate_for_course(db, course.id).can_start
    review = screening.record_clearance(db, people["phil"], PASSWORDS["phil"], patient.id,
                                        "risk/benefit discussed with the patient; treat")
    assert gate_for_course(db, course.id).can_start
    [row] = screening.clearances(db, patient.id)
    assert row["id"] == review and row["signer_role"] == "physician" and row["items"] == [item_id]


@pytest.mark.parametrize("item_id", ["infusion_device", "icd", "wearable_defibrillator"])
def test_pumps_icds_and_wearable_defibrillators_are_asked_by_name_and_block(db, people, patient,
                                                                           item_id: str) -> None:
    q = screening.load_questionnaire()
    item = q.item(item_id)
    assert item is not None and item.absolute_contraindication
    words = {"infusion_device": "infusion pump", "icd": "cardioverter-defibrillator (ICD)",
             "wearable_defibrillator": "wearable cardioverter-defibrillator"}[item_id]
    assert words in item.text
    course = ready_course(db, patient)
    screening.record_screening(db, people["tom"], patient.id, all_no(**{item_id: "yes"}),
                               {item_id: "since 2022"})
    [blocker] = gate_for_course(db, course.id).blockers
    assert "Absolute contraindication" in blocker.message and words in blocker.message
    screening.record_clearance(db, people["phil"], PASSWORDS["phil"], patient.id, "cardiology letter")
    assert gate_for_course(db, course.id).can_start


def test_metal_in_the_head_is_not_dental_work_and_the_source_is_cited() -> None:
    q = screening.load_questionnaire()
    assert "not counting dental work" in q.item("metal_head").text
    assert "Rossi et al. 2009 §7.5" in q.source and "2011 revision" in q.source


def test_a_clinic_adds_its_own_items_as_data(db, people, patient, tmp_path, monkeypatch) -> None:
    shipped = json.loads((ROOT / "resources" / "screening_questionnaire.json").read_text(encoding="utf-8"))
    added = {i["id"] for i in shipped["clinic_items"]}
    assert {"shunt", "aneurysm_clips", "stents", "facial_tattoo"} <= added
    shipped["clinic_items"] = [{"id": "bullet", "text": "Do you have a bullet fragment anywhere?"}]
    (tmp_path / "screening_questionnaire.json").write_text(json.dumps(shipped), encoding="utf-8")
    monkeypatch.setenv("TMS_CONSOLE_RESOURCES", str(tmp_path))
    clear_cache()
    try:
        q = screening.load_questionnaire()
        assert q.items[-1].id == "bullet" and q.items[-1].clinic_added
        assert q.item("shunt") is None  # the clinic's file is the clinic's list
        course = ready_course(db, patient)
        screening.record_screening(db, people["tom"], patient.id, all_no(bullet="yes"),
                                   {"bullet": "left thigh"})
        [blocker] = gate_for_course(db, course.id).blockers
        assert "bullet fragment" in blocker.message and screening.REVIEW_PHRASE in blocker.message
    finally:
        monkeypatch.delenv("TMS_CONSOLE_RESOURCES")
        clear_cache()


def test_a_screening_is_per_course(db, people, patient) -> None:
    first = ready_course(db, patient)
    screening.record_screening(db, people["tom"], patient.id, all_no())
    assert gate_for_course(db, first.id).can_start
    clinic.close_course(db, first.id, "completed")
    second = open_course(db, patient.id)
    gate = gate_for_course(db, second.id)
    assert [b.message for b in gate.blockers] == [
        "No safety screening has been recorded for this course: record one before the first session."]
    screening.record_screening(db, people["tom"], patient.id, all_no())  # linked to the open course
    assert gate_for_course(db, second.id).can_start
    # The first course's screening does not count for the second, nor the second's for the first.
    linked = db.execute("SELECT course_id FROM screenings ORDER BY id").fetchall()
    assert linked == [(first.id,), (second.id,)]


@pytest.mark.parametrize("question", ["medication_change", "new_implant"])
def test_a_new_implant_or_medication_change_at_the_checklist_ends_the_screening(db, people, patient,
                                                                              question: str) -> None:
    course = ready_course(db, patient)
    screening.record_screening(db, people["tom"], patient.id, all_no())
    session = add_session(db, course, datetime.now().replace(hour=0, minute=1))
    add_checklist(db, people["tom"], session, [
        {"id": "metal_removed", "question": "All metal removed?", "answer": "yes"},
        {"id": question, "question": "Changed since the last session?", "answer": "yes", "note": "new"},
    ])
    # (a medication change also holds the MT until re-measured: H11's hold, tested in test_governance_mt)
    [blocker] = [b for b in gate_for_course(db, course.id).blockers if b.code == "screening"]
    assert "Changed since the last session?" in blocker.message and "screen again" in blocker.message
    screening.record_screening(db, people["tom"], patient.id, all_no())  # a newer screening supersedes
    assert [b for b in gate_for_course(db, course.id).blockers if b.code == "screening"] == []


def test_the_physician_reviews_a_yes_in_the_form(qtbot, db, people, patient) -> None:
    """Through the widgets: the technician's "yes", the supervisor refused, the physician signs."""
    course = ready_course(db, patient)
    form = ScreeningDialog(db, people["tom"], patient.id, course.id)
    qtbot.addWidget(form)
    form.show()
    assert "Rossi et al. 2009 §7.5" in form.source.text() and "2011" in form.source.text()
    notes = {"epilepsy": "one seizure in 2009 after sleep loss, none since",
             "icd": "implanted 2021, cardiology follows"}
    for row in form.rows:
        (row.yes if row.item.id in notes else row.no).click()
        if row.item.id in notes:
            row.note.setText(notes[row.item.id])
    qtbot.mouseClick(form.ok, Qt.MouseButton.LeftButton)
    assert not form.isVisible() and not gate_for_course(db, course.id).can_start

    review = ClearanceDialog(db, patient.id)
    qtbot.addWidget(review)
    review.resize(760, 560)
    review.show()
    texts = [w.text() for w in review.findChildren(type(review.title))]
    assert any("one seizure in 2009" in t for t in texts) and any("implanted 2021" in t for t in texts)
    assert any("Absolute contraindication on the clinic's list" in t for t in texts)
    assert any("Only a physician can sign" in t for t in texts)
    qtbot.keyClicks(review.username, "sue")
    qtbot.keyClicks(review.password, PASSWORDS["sue"])
    qtbot.keyClicks(review.reason, "fine by me")
    qtbot.mouseClick(review.ok, Qt.MouseButton.LeftButton)
    assert review.isVisible() and "supervisor cannot sign the physician's review" in review.error.text()
    review.username.clear()
    review.reason.clear()
    review.error.clear()
    qtbot.keyClicks(review.username, "phil")
    qtbot.keyClicks(review.reason, "Seizure risk discussed; cardiology letter of 2026-02-01: ICD cleared")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    review.setStyleSheet((style_sheet() or "") + review.styleSheet())  # the clinic's look, this form only
    assert review.grab().save(str(SCREENSHOT))
    qtbot.keyClicks(review.password, PASSWORDS["phil"])
    qtbot.mouseClick(review.ok, Qt.MouseButton.LeftButton)
    assert not review.isVisible()
    assert gate_for_course(db, course.id).can_start
    [row] = screening.clearances(db, patient.id)
    assert row["signed_by"] == "phil" and sorted(row["items"]) == ["epilepsy", "icd"]
