"""Before the session: choosing the patient (today's list, search by clinic id or
name), what the course card says (MT age, blockers), and a checklist that can
be answered but not skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt

from console.clinic.records import create_patient, open_course, record_motor_threshold
from console.session.course_overview import overview_for, todays_patients
from console.ui.chair.checklist import ChecklistPage
from console.ui.chair.start_of_day import StartOfDay
from tests.engine.clinic_setup import screen_uneventfully


def test_todays_list_and_search_by_id_or_name(qtbot, clinic) -> None:
    create_patient(clinic.db, "P-2002", "Émile Zola")  # no course: not on today's list
    page = StartOfDay(clinic.db)
    qtbot.addWidget(page)
    assert page.list.count() == 1 and "P-1001" in page.list.item(0).text()
    for text, expected in (("p-2002", "P-2002"), ("emile", "P-2002"), ("alex", "P-1001")):
        page.search.setText(text)
        page.refresh()
        assert page.list.count() == 1 and expected in page.list.item(0).text(), text
    page.search.setText("nobody")
    page.refresh()
    assert page.list.count() == 0 and "No patient matches" in page.empty.text()


def test_course_card_reads_the_prescription_and_warns_on_an_old_mt(qtbot, clinic) -> None:
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    patient = create_patient(clinic.db, "P-3003", "Old Threshold")
    open_course(clinic.db, patient.id, "itbs", 110.0)
    record_motor_threshold(clinic.db, patient.id, 50.0, "visual", measured_at=old)
    screen_uneventfully(clinic.db, patient.id)
    page = StartOfDay(clinic.db)
    qtbot.addWidget(page)
    page.search.setText("P-3003")
    page.refresh()
    card = page.card
    assert card.fields["Session"].text() == "1 of 36 (acute)"
    assert card.fields["Prescription"].text() == "110 % MT  =  55 % MSO on the device"
    assert "40 days ago" in card.fields["Motor threshold"].text()
    # An overdue MT holds the course (issue 14, item 6): re-measured, or a physician's override.
    assert "40 days old" in card.blockers.text() and "Motor threshold" in card.blockers.text()
    assert not card.begin.isEnabled()


def test_no_course_or_no_mt_blocks_the_start(qtbot, clinic) -> None:
    patient = create_patient(clinic.db, "P-4004", "No Course")
    overview = overview_for(clinic.db, patient)
    assert not overview.can_start
    assert any("No open treatment course" in b for b in overview.blockers)
    assert any("No motor threshold" in b for b in overview.blockers)
    page = StartOfDay(clinic.db)
    qtbot.addWidget(page)
    requested: list = []
    page.session_requested.connect(requested.append)
    page.search.setText("P-4004")
    page.refresh()
    assert not page.card.begin.isEnabled() and "No open treatment course" in page.card.blockers.text()
    page.begin()
    assert requested == []


def test_treated_today_goes_to_the_end_of_the_list(clinic) -> None:
    patients = todays_patients(clinic.db)
    assert [(p.clinic_id, seen) for p, seen in patients] == [("P-1001", False)]


def test_the_checklist_cannot_be_skipped_and_asks_for_configured_notes(qtbot) -> None:
    page = ChecklistPage()
    qtbot.addWidget(page)
    page.begin("P-1001 · AE")
    completed: list = []
    page.completed.connect(completed.append)
    assert not page.proceed.isEnabled() and page.status.text() == f"{len(page.items)} to answer"
    page.proceed.click()
    assert completed == []
    items = {item.item_id: item for item in page.items}
    for item in page.items:
        (item.yes if "no" in item.note_on else item.no).setChecked(True)
    assert page.proceed.isEnabled()
    items["medication_change"].yes.setChecked(True)  # a "yes" the clinic wants explained
    assert items["medication_change"].note.isVisibleTo(page)
    assert not page.proceed.isEnabled() and page.status.text() == "1 note needed"
    items["medication_change"].note.setText("Started lithium 300 mg")
    qtbot.mouseClick(page.proceed, Qt.MouseButton.LeftButton)
    answers = {a.id: a for a in completed[0]}
    assert answers["medication_change"].answer == "yes"
    assert answers["medication_change"].note == "Started lithium 300 mg"
    assert answers["metal_removed"].answer == "yes" and answers["metal_removed"].note == ""
    page.begin("next patient")
    assert all(item.answer is None for item in page.items)  # nothing carries over


def test_enter_continues_after_answering_with_the_mouse(qtbot) -> None:
    page = ChecklistPage()
    qtbot.addWidget(page)
    page.show()
    page.begin("P-1001 · AE")
    completed: list = []
    page.completed.connect(completed.append)
    for item in page.items:
        qtbot.mouseClick(item.yes if "no" in item.note_on else item.no, Qt.MouseButton.LeftButton)
    # a click answers and moves on as Y/N do (issue 20, item 5): after the last one, to Continue
    assert page.focusWidget() is page.proceed
    qtbot.keyClick(page.focusWidget() or page, Qt.Key.Key_Return)
    assert len(completed) == 1 and all(a.answer in ("yes", "no") for a in completed[0])
