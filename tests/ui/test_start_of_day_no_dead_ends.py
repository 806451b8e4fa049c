"""The chair's start of day without dead ends (issue 20, items 17, 19, 20, 14): every blocker
says who clears it and where, the card offers what the person may do, an interrupted session
is said by patient and session number, the card is read again when the screen comes back, and
the PHQ-9 at the end of a session has its own key (not Quit's) and says it was saved."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from console.clinic import records as clinic_records
from console.clinic.records import create_patient, open_course, record_motor_threshold
from console.people.user import get_user
from console.safety import screening
from console.session.course_overview import overview_for, recovery_notice
from console.session.snapshot import LiveSnapshot
from console.ui.chair.end_of_session import EndOfSession
from console.ui.chair.start_of_day import StartOfDay
from console.ui.clinic.mt_dialog import MtDialog
from console.ui.clinic.patient_summary import PatientSummary
from console.ui.clinic.phq9_dialog import Phq9Dialog
from console.ui.clinic.screening_dialog import ClearanceDialog, ScreeningDialog
from db.database import new_uuid, to_utc_iso
from tests.engine.clinic_setup import screen_uneventfully


@pytest.fixture
def fast(fast_hasher):
    return fast_hasher


def _page(qtbot, clinic, user, search: str) -> StartOfDay:
    # Tests ask for ``clinic`` before ``qtbot``: pytest then closes the page before the database,
    # so no search timer of the page fires on a closed database.
    page = StartOfDay(clinic.db, user=user)
    qtbot.addWidget(page)
    page.resize(1280, 720)
    page.show()
    page.search.setText(search)
    page.refresh()
    return page


def test_a_technician_is_offered_the_mt_and_the_screening_and_can_then_begin(fast, clinic, qtbot) -> None:
    patient = create_patient(clinic.db, "P-5005", "Jordan New")
    open_course(clinic.db, patient.id, "itbs", 120.0)
    page = _page(qtbot, clinic, clinic.technician, "P-5005")
    card = page.card
    text = card.blockers.text()
    assert "No motor threshold" in text and "No safety screening" in text
    assert text.count("Who can clear this: a technician, a supervisor or a physician") == 2
    assert "“Motor threshold”" in text and "“Safety screening”" in text
    assert not card.begin.isEnabled()
    assert card.offers["motor_threshold"].isVisibleTo(card) and card.offers["screening"].isVisibleTo(card)
    assert not card.offers["clearance"].isVisibleTo(card)

    qtbot.mouseClick(card.offers["motor_threshold"], Qt.MouseButton.LeftButton)
    mt = page.dialog
    assert isinstance(mt, MtDialog)
    qtbot.keyClicks(mt.value, "45")
    qtbot.mouseClick(mt.ok, Qt.MouseButton.LeftButton)
    assert clinic_records.latest_motor_threshold(clinic.db, patient.id).mso == 45
    assert "No motor threshold" not in card.blockers.text()  # read again at once
    assert not card.offers["motor_threshold"].isVisibleTo(card)

    qtbot.mouseClick(card.offers["screening"], Qt.MouseButton.LeftButton)
    form = page.dialog
    assert isinstance(form, ScreeningDialog)
    for row in form.rows:
        row.no.click()
    qtbot.mouseClick(form.ok, Qt.MouseButton.LeftButton)
    assert card.blockers.text() == ""
    assert card.begin.isEnabled()


def test_a_blocker_the_technician_cannot_clear_names_who_can_and_where(fast, clinic, qtbot) -> None:
    patient = create_patient(clinic.db, "P-6006", "No Course Yet")
    record_motor_threshold(clinic.db, patient.id, 50.0, "EMG")
    screen_uneventfully(clinic.db, patient.id)
    page = _page(qtbot, clinic, clinic.technician, "P-6006")
    text = page.card.blockers.text()
    assert "No open treatment course" in text
    assert ("Who can clear this: a supervisor, a physician or an admin, with “Open course” on the Patients "
            "screen") in text
    assert not any(b.isVisibleTo(page.card) for b in page.card.offers.values())


def test_a_clearance_is_offered_to_the_physician_only(fast, clinic, qtbot) -> None:
    patient = create_patient(clinic.db, "P-7007", "Pace Maker")
    open_course(clinic.db, patient.id, "10hz", 120.0)
    record_motor_threshold(clinic.db, patient.id, 50.0, "EMG")
    answers = {i.id: "no" for i in screening.load_questionnaire().items} | {"pacemaker": "yes"}
    screening.record_screening(clinic.db, clinic.technician, patient.id, answers)
    tech = _page(qtbot, clinic, clinic.technician, "P-7007")
    assert "Who can clear this: a physician, with “Physician review”" in tech.card.blockers.text()
    assert not tech.card.offers["clearance"].isVisibleTo(tech.card)
    sup = _page(qtbot, clinic, clinic.supervisor, "P-7007")
    assert not sup.card.offers["clearance"].isVisibleTo(sup.card)  # a clinical decision: issue 14, item 7
    doc = _page(qtbot, clinic, clinic.physician, "P-7007")
    assert doc.card.offers["clearance"].isVisibleTo(doc.card)
    qtbot.mouseClick(doc.card.offers["clearance"], Qt.MouseButton.LeftButton)
    assert isinstance(doc.dialog, ClearanceDialog) and doc.dialog.username.text() == "phil"


def _session(clinic, course, started: datetime, status: str, delivered: int, number: int,
             session_id: int | None = None) -> int:
    cur = clinic.db.execute(
        "INSERT INTO sessions (id, uuid, patient_id, course_id, number_in_course, status, started_at, "
        "device_url, technician, pulses_planned, pulses_delivered) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 'sim://', 'tina', 3000, ?)",
        [session_id, new_uuid(), course.patient_id, course.id, number, status, to_utc_iso(started),
         delivered],
    )
    return int(cur.lastrowid)


def test_an_interrupted_session_is_said_on_the_card_before_the_next(fast, clinic, qtbot) -> None:
    course = clinic_records.active_course(clinic.db, clinic.patient.id)
    start = datetime.now() - timedelta(days=3)
    _session(clinic, course, start, "completed", 3000, 1)
    _session(clinic, course, start + timedelta(days=1), "completed", 3000, 2)
    _session(clinic, course, start + timedelta(days=2), "interrupted", 2160, 3, session_id=4711)
    page = _page(qtbot, clinic, clinic.technician, "P-1001")
    card = page.card
    assert card.fields["Session"].text().startswith("4 of 36")
    said = card.interrupted.text()
    assert "Session 3 of 36" in said and "interrupted after 2,160 of 3,000 pulses (72 %)" in said
    assert "cannot be continued" in said and "Begin starts session 4 as a new session" in said
    assert card.interrupted.isVisibleTo(card) and "4711" not in said
    summary = PatientSummary(clinic.db)  # the Patients screen says it too
    qtbot.addWidget(summary)
    summary.show_patient(clinic.patient.id)
    assert "Last: session 3 of 36" in summary.plan.text() and "(72 %)" in summary.plan.text()
    # Once a later session is given, the interruption is history, not news.
    _session(clinic, course, datetime.now() - timedelta(hours=1), "completed", 3000, 4)
    assert overview_for(clinic.db, clinic.patient).interrupted is None


def test_the_recovery_notice_names_the_patient_and_session_number_not_the_record_id(fast, clinic) -> None:
    course = clinic_records.active_course(clinic.db, clinic.patient.id)
    start = datetime.now() - timedelta(days=2)
    _session(clinic, course, start, "completed", 3000, 1)
    _session(clinic, course, start + timedelta(days=1), "completed", 3000, 2)
    sid = _session(clinic, course, datetime.now() - timedelta(hours=1), "interrupted", 2160, 3,
                   session_id=4711)
    notice = recovery_notice(clinic.db, [sid])
    assert "patient P-1001, session 3 of 36" in notice
    assert "Alex Example" not in notice  # the title bar is read before anyone logs in
    assert "2,160 of 3,000 pulses (72 %)" in notice
    assert "4711" not in notice and "marked interrupted" not in notice


def test_the_card_is_read_again_when_the_screen_comes_back(fast, clinic, qtbot) -> None:
    """The supervisor records MT and screening on the Patients tab; back at the Chair the card
    shows them without another patient being clicked first."""
    patient = create_patient(clinic.db, "P-8008", "Back Again")
    open_course(clinic.db, patient.id, "10hz", 120.0)
    page = _page(qtbot, clinic, clinic.supervisor, "P-8008")
    qtbot.waitUntil(lambda: not page._debounce.isActive(), timeout=10000)  # the search has been read
    assert not page.card.begin.isEnabled()
    page.hide()
    record_motor_threshold(clinic.db, patient.id, 50.0, "EMG")
    screen_uneventfully(clinic.db, patient.id)
    page.show()  # no search, no click: showing the screen again reads the card again
    assert page.card.begin.isEnabled()
    assert page.card.fields["Prescription"].text() == "120 % MT  =  60 % MSO on the device"


def test_phq9_at_the_end_of_a_session_is_not_on_quits_key_and_its_save_is_said(fast, clinic, qtbot) -> None:
    course = clinic_records.active_course(clinic.db, clinic.patient.id)
    sid = _session(clinic, course, datetime.now() - timedelta(minutes=30), "completed", 3000, 1)
    page = EndOfSession(clinic.db)
    qtbot.addWidget(page)
    page.show()
    quit_keys = {k.toString() for k in QKeySequence.keyBindings(QKeySequence.StandardKey.Quit)}
    assert page.phq9_button.shortcut().toString() not in quit_keys | {"Ctrl+Q"}
    snap = LiveSnapshot(session_id=sid, state="ended", end_status="completed", pulses_delivered=3000,
                        pulses_recorded=3000, pulses_planned=3000)
    page.show_session(snap, user=get_user(clinic.db, "tina"), patient_id=clinic.patient.id,
                      course_id=course.id)
    assert page.phq9_button.isVisibleTo(page)
    page.windowHandle().requestActivate()  # offscreen windows are not activated by show()
    qtbot.waitUntil(page.isActiveWindow, timeout=10000)
    qtbot.keyClick(page, Qt.Key.Key_9, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(page.dialog, Phq9Dialog), timeout=10000)
    dialog = page.dialog
    assert isinstance(dialog, Phq9Dialog)
    for group in dialog.groups:
        group.button(0).click()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "PHQ-9 saved: total 0" in page.phq9_state.text(), timeout=10000)
