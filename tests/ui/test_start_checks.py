"""The checks before a session exists: a protocol outside the clinic's limits
needs a physician's signed override; a session sooner than the schedule
allows needs a reason. Both are recorded and linked to the session once it
exists."""

from __future__ import annotations

from console.clinic.records import create_patient, open_course, record_motor_threshold
from console.ui.chair.technician import TechnicianWorkspace
from db.database import new_uuid, utc_now
from tests.engine.clinic_setup import screen_uneventfully
from tests.ui.drive import show
from tests.ui.fakes import FakeRunner


def begin(qtbot, ws: TechnicianWorkspace, clinic_id: str) -> None:
    ws.start_page.search.setText(clinic_id)
    ws.start_page.refresh()
    assert ws.start_page.card.begin.isEnabled(), ws.start_page.card.blockers.text()
    ws.start_page.begin()


def a_session_row(db, patient_id: int, course_id: int | None, status: str = "recording") -> int:
    return int(db.execute(
        "INSERT INTO sessions (uuid, patient_id, course_id, status, started_at, device_url, "
        "pulses_delivered) VALUES (?, ?, ?, ?, ?, 'tscp+serial:///dev/null', 10)",
        [new_uuid(), patient_id, course_id, status, utc_now()]).lastrowid)


def test_outside_the_limits_needs_a_physicians_signature(qtbot, clinic) -> None:
    patient = create_patient(clinic.db, "P-5005", "High Intensity")
    course = open_course(clinic.db, patient.id, "10hz", 130.0)  # above the clinic's 120 % MT
    record_motor_threshold(clinic.db, patient.id, 50.0, "EMG")
    screen_uneventfully(clinic.db, patient.id)
    ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician)
    show(qtbot, ws)
    try:
        begin(qtbot, ws, "P-5005")
        dialog = ws.dialog
        assert dialog is not None and "120 % MT" in dialog.prompt.text()
        assert ws.currentWidget() is ws.start_page  # no checklist before the override
        dialog.username.setText("tina")  # a technician cannot sign it
        dialog.password.setText("tina's long password")
        dialog.reason.setText("Titration agreed in the course plan")
        dialog.buttons.accepted.emit()
        assert "technician" in dialog.error.text() and ws.currentWidget() is ws.start_page
        dialog.username.setText("sam")  # nor the lead technician (issue 14, item 7)
        dialog.password.setText("sam's long password")
        dialog.buttons.accepted.emit()
        assert "a physician can" in dialog.error.text() and ws.currentWidget() is ws.start_page
        dialog.username.setText("phil")
        dialog.password.setText("wrong password")
        dialog.buttons.accepted.emit()
        assert "not accepted" in dialog.error.text()
        dialog.password.setText("phil's long password")
        dialog.buttons.accepted.emit()
        qtbot.waitUntil(lambda: ws.currentWidget() is ws.checklist, timeout=5000)
        row = next(clinic.db.query("SELECT * FROM overrides WHERE kind = 'safety_limit'"))
        assert (row["by_user"], row["signed"], row["course_id"]) == ("phil", 1, course.id)
        assert row["session_id"] is None  # no session yet
        # Once connected, the session's record carries the override and the checklist.
        for item in ws.checklist.items:
            (item.yes if "no" in item.note_on else item.no).setChecked(True)
        ws.checklist.proceed.click()
        sid = a_session_row(clinic.db, patient.id, course.id)
        ws.connected(FakeRunner.for_session(sid))
        assert clinic.db["overrides"].get(row["id"])["session_id"] == sid
        kinds = [r["kind"] for r in clinic.db.query(
            "SELECT kind FROM session_events WHERE session_id = ?", [sid])]
        assert kinds == ["checklist"]
    finally:
        ws.session_view.detach()
        ws.runner = None
        ws.shutdown()


def test_a_second_session_the_same_day_asks_a_physician_not_a_reason(qtbot, clinic) -> None:
    """A session beyond the day's plan needs a physician's signed override (issue 14, item 10): the
    technician is not offered a list of reasons to pick from."""
    course_id = clinic.db.execute("SELECT id FROM courses WHERE patient_id = ?",
                                  [clinic.patient.id]).fetchone()[0]
    a_session_row(clinic.db, clinic.patient.id, course_id, status="completed")
    ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician)
    show(qtbot, ws)
    try:
        begin(qtbot, ws, "P-1001")
        dialog = ws.dialog
        assert dialog is not None and "session 2 today" in dialog.prompt.text()
        assert "physician's signed override" in dialog.prompt.text()
        assert not hasattr(dialog, "choice")  # a signature, not a picked reason
        assert ws.currentWidget() is not ws.checklist
    finally:
        ws.shutdown()


def test_back_to_the_patients_before_the_start_keeps_why(qtbot, clinic) -> None:
    ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician)
    show(qtbot, ws)
    try:
        begin(qtbot, ws, "P-1001")
        for item in ws.checklist.items:
            (item.yes if "no" in item.note_on else item.no).setChecked(True)
        ws.checklist.proceed.click()
        assert ws.session_view.controls.back.isVisible()
        course_id = clinic.db.execute("SELECT id FROM courses").fetchone()[0]
        runner = FakeRunner.for_session(a_session_row(clinic.db, clinic.patient.id, course_id))
        ws.connected(runner)
        ws.session_view.controls.back.click()
        dialog = ws.dialog
        dialog.choice.setCurrentText("Patient declined today")
        dialog.buttons.accepted.emit()
        qtbot.waitUntil(lambda: ws.currentWidget() is ws.start_page, timeout=5000)
        qtbot.waitUntil(lambda: runner.names()[-1:] == ["close"], timeout=5000)
        assert runner.calls[-1][1] == ("not started: Patient declined today",)
    finally:
        ws.shutdown()


def test_a_signed_override_not_yet_used_is_not_asked_again(qtbot, clinic) -> None:
    """Back to the day's list after the physician signed, then Begin again: the start gate sees
    today's override for the course, so the physician is not called back to sign twice."""
    patient = create_patient(clinic.db, "P-5006", "High Intensity")
    open_course(clinic.db, patient.id, "10hz", 130.0)
    record_motor_threshold(clinic.db, patient.id, 50.0, "EMG")
    screen_uneventfully(clinic.db, patient.id)
    ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician)
    show(qtbot, ws)
    try:
        begin(qtbot, ws, "P-5006")
        dialog = ws.dialog
        dialog.username.setText("phil")
        dialog.password.setText("phil's long password")
        dialog.reason.setText("Titration agreed in the course plan")
        dialog.buttons.accepted.emit()
        qtbot.waitUntil(lambda: ws.currentWidget() is ws.checklist, timeout=5000)
        ws.checklist.back_requested.emit()
        qtbot.waitUntil(lambda: ws.currentWidget() is ws.start_page and ws.dialog is None, timeout=5000)
        begin(qtbot, ws, "P-5006")
        assert ws.dialog is None and ws.currentWidget() is ws.checklist
        assert clinic.db.execute("SELECT count(*) FROM overrides").fetchone()[0] == 1
    finally:
        ws.shutdown()
