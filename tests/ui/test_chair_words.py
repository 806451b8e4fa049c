"""The chair tells the truth in plain words, says what it recorded, and keeps the numbers in
sight (issue 20, items 9, 14 and 15, chair part).

- the in-session Note dialog does not cover the big numbers;
- a side effect recorded live is confirmed on screen; after an adverse event the end screen
  lists it, never "None reported";
- a device's or port's own words, the raw device address and "fired while not recorded"
  stay out of the main text; the exact words are under "Details".
"""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QRect

from console.session.snapshot import LiveSnapshot
from console.ui.chair.device_panel import DevicePanel
from console.ui.chair.end_of_session import EndOfSession
from console.ui.chair.session_view import SessionView
from console.ui.chair.technician import TechnicianWorkspace
from devices.adapter import DeviceError
from devices.sim.process import SimulatorProcess
from tests.ui.drive import WAIT_MS, show, to_running
from tests.ui.fakes import FakeRunner

RUNNING = LiveSnapshot(session_id=7, state="running", device_connected=True, device_state="RUNNING",
                       pulses_delivered=1200, pulses_recorded=1200, pulses_planned=3000, mso=62,
                       prescribed_mso=62, mt_mso=52.0, percent_mt=119.2, elapsed_s=600.0)
PORT_WORDS = ("the port was closed or unplugged (device reports readiness to read but returned no data "
              "(device disconnected or multiple access on port?))")


def _global_rect(widget) -> QRect:
    return QRect(widget.mapToGlobal(widget.rect().topLeft()), widget.size())


def _running_view(qtbot) -> tuple[SessionView, FakeRunner]:
    view = SessionView()
    qtbot.addWidget(view)
    view.by = "tina"
    screen = view.screen().availableGeometry()
    view.setGeometry(screen.adjusted(0, 0, -10, -10))
    view.show()
    qtbot.waitExposed(view)
    runner = FakeRunner(RUNNING)
    view.attach(runner)
    return view, runner


def test_the_note_dialog_leaves_the_big_numbers_in_sight(qtbot) -> None:
    view, _runner = _running_view(qtbot)
    try:
        view.controls.note.click()
        dialog = view.dialog
        qtbot.waitExposed(dialog)
        numbers = _global_rect(view.numbers)
        assert not dialog.frameGeometry().intersects(numbers), (dialog.frameGeometry(), numbers)
        dialog.reject()
    finally:
        view.detach()


def test_a_side_effect_recorded_live_is_confirmed(qtbot) -> None:
    view, runner = _running_view(qtbot)
    try:
        view.controls.side_effects["headache"].click()
        qtbot.keyClicks(view.dialog.rating, "4")
        view.dialog.buttons.accepted.emit()
        assert runner.calls[-1][0] == "add_side_effect"
        assert view.notice.text().startswith("Side effect recorded: Headache 4/10 at ")
        assert view.notice.isVisible()
    finally:
        view.detach()


def test_a_device_problem_is_said_plainly_with_the_details_folded(qtbot) -> None:
    view, runner = _running_view(qtbot)
    try:
        runner.update(command_error=PORT_WORDS)
        view.bridge.tick()
        assert "readiness" not in view.message.text() and view.message.text()
        assert "connection to the device was lost" in view.message.text()
        fold = view.message_details
        assert fold.toggle.isVisible() and not fold.details.isVisible()
        fold.toggle.click()
        assert fold.details.isVisible() and fold.details.text() == PORT_WORDS
    finally:
        view.detach()


def test_the_device_panel_says_failures_and_the_address_plainly(qtbot) -> None:
    panel = DevicePanel()
    qtbot.addWidget(panel)
    panel.show()

    def fails(url: str):
        raise DeviceError(f"Cannot open /dev/ttyUSB0: {PORT_WORDS}.")

    panel.set_url("tscp+serial:///dev/ttyUSB0")
    panel.set_opener(fails)
    panel.connect_device()
    qtbot.waitUntil(lambda: not panel.connecting and panel.connect_button.isEnabled(), timeout=10_000)
    shown = f"{panel.status.text()} {panel.problem.text.text()}"
    assert "readiness" not in shown and "Cannot open" not in shown
    assert "could not reach the device" in shown or "connection to the device was lost" in shown
    assert PORT_WORDS in panel.problem.details.text() and not panel.problem.details.isVisible()

    panel.set_opener(lambda url: FakeRunner(RUNNING))
    panel.connect_device()
    qtbot.waitUntil(lambda: panel.is_connected, timeout=10_000)
    assert "tscp+serial" not in panel.address.text() and "ttyUSB0" in panel.address.text()
    assert panel.address.toolTip() == "tscp+serial:///dev/ttyUSB0"  # the exact address, on hover
    panel.join()


def test_pulses_not_received_are_said_in_plain_words(qtbot, clinic) -> None:
    page = EndOfSession(clinic.db)
    qtbot.addWidget(page)
    snap = dataclasses.replace(RUNNING, session_id=None, state="ended", end_status="stopped",
                               pulses_delivered=100, pulses_recorded=81)
    page.show_session(snap, user=clinic.technician, patient_id=clinic.patient.id, course_id=None)
    assert "fired while not recorded" not in page.pulses.sub.text()
    assert page.pulses.sub.text().startswith("19 given by the device but not received")


@pytest.mark.slow
def test_after_an_adverse_event_the_end_screen_lists_it(qtbot, itbs_clinic) -> None:
    clinic = itbs_clinic
    with SimulatorProcess("itbs", speed=10, seed=31, pose_hz=10) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        try:
            to_running(qtbot, ws)
            ws.session_view.controls.adverse.click()
            qtbot.waitUntil(lambda: ws.dialog is not None, timeout=5000)
            dialog = ws.dialog
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.end_page, timeout=WAIT_MS)
            listed = [ws.end_page.side_effect_list.item(i).text()
                      for i in range(ws.end_page.side_effect_list.count())]
            assert "None reported" not in listed  # the event's record is open, not "none"
            dialog.kind.setCurrentText("syncope (fainting)")
            dialog.what.setPlainText("Felt faint and went pale for a minute; recovered lying back.")
            dialog.try_save()
            qtbot.waitUntil(lambda: ws.dialog is None, timeout=5000)
            listed = [ws.end_page.side_effect_list.item(i).text()
                      for i in range(ws.end_page.side_effect_list.count())]
            assert any(item.startswith("Adverse event: syncope (fainting)") for item in listed), listed
        finally:
            ws.shutdown()
