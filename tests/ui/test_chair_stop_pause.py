"""Stop (F8) and Pause (F6) act on the key press; the reason is asked afterwards.

The real simulator on a pty, the real adapter, runner and SQLite file, real widgets
offscreen. Every dialog that opens is checked at the moment it opens (``QDialog.open``
is wrapped): by then the device must already have taken the STOP or PAUSE.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog

from console.note.assembly import build_note
from console.ui.chair.technician import TechnicianWorkspace
from db.database import utc_now
from devices.sim.process import SimulatorProcess
from tests.ui.drive import WAIT_MS, answer_checklist_with_keys, choose_patient, show, snapshot, to_running

pytestmark = pytest.mark.slow


def press(qtbot, ws: TechnicianWorkspace, key) -> None:
    """A key as a person presses it: to whatever has the keyboard focus in the window."""
    widget = QApplication.focusWidget() or ws
    qtbot.keyClick(widget, key)


def watch_dialogs(monkeypatch) -> list[dict[str, Any]]:
    """Note, for every dialog opened, when it opened and what the live view showed then."""
    opened: list[dict[str, Any]] = []
    original = QDialog.open

    def open_and_note(dialog: QDialog) -> None:
        view = dialog.parentWidget()
        while view is not None and not hasattr(view, "session_view"):
            view = view.parentWidget()
        source = view.session_view.bridge.source if view is not None else None
        snap = source.snapshot() if source is not None else None
        opened.append({"at": utc_now(), "title": dialog.windowTitle(), "dialog": dialog,
                       "state": snap.state if snap else None,
                       "device_state": snap.device_state if snap else None})
        original(dialog)

    monkeypatch.setattr(QDialog, "open", open_and_note)
    return opened


def events(db, session_id: int) -> list[dict[str, Any]]:
    rows = list(db.query("SELECT id, at, kind, code, detail, by_user FROM session_events "
                         "WHERE session_id = ? ORDER BY id", [session_id]))
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else None
    return rows


def test_f8_stops_the_device_before_any_dialog_and_asks_why_afterwards(qtbot, clinic, monkeypatch) -> None:
    with SimulatorProcess("10hz", speed=20, seed=11, pose_hz=10) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        try:
            to_running(qtbot, ws)
            qtbot.waitUntil(lambda: snapshot(ws).pulses_delivered > 100, timeout=WAIT_MS)
            session_id = ws.runner.session_id
            opened = watch_dialogs(monkeypatch)
            pressed = utc_now()
            press(qtbot, ws, Qt.Key.Key_F8)
            qtbot.waitUntil(lambda: bool(opened), timeout=WAIT_MS)
            dialog = opened[0]["dialog"]
            # Nobody answers yet: the session ends anyway, because the device was told at the press.
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.end_page, timeout=WAIT_MS)
            assert dialog.isVisible() and ws.end_page.title.text().startswith("Session stopped")
            # No reason was pre-chosen; the person picks one with the keys and confirms.
            assert dialog.choice.currentIndex() == -1
            qtbot.keyClick(dialog.choice, Qt.Key.Key_Down)
            assert dialog.choice.currentText() == "Patient asked to stop"
            qtbot.keyClick(dialog.choice, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda: any(r["kind"] == "reason" for r in events(clinic.db, session_id)),
                            timeout=WAIT_MS)
            assert ws.end_page.reason.text() == "Reason: Patient asked to stop"
        finally:
            ws.shutdown()
    rows = events(clinic.db, session_id)
    stop_acks = [r for r in rows if r["kind"] == "command" and r["code"] == "STOP"
                 and r["detail"]["outcome"] == "acknowledged"]
    assert stop_acks, "the device never acknowledged a STOP"
    assert pressed <= stop_acks[0]["at"] <= opened[0]["at"], "STOP must be taken before the dialog opens"
    requested = next(r for r in rows if r["kind"] == "end_requested")
    assert pressed <= requested["at"] <= opened[0]["at"]  # the record keeps the time of the press
    assert requested["detail"] == {"reason_asked_after": True}
    reason = next(r for r in rows if r["kind"] == "reason")
    assert reason["code"] == "stopped" and reason["by_user"] == "tina"
    assert reason["detail"] == {"reason": "Patient asked to stop", "given": True,
                                "pressed_at": requested["at"]}
    end = next(r for r in rows if r["kind"] == "end")
    assert [r["kind"] for r in rows].index("end") < rows.index(reason)
    s = clinic.db["sessions"].get(session_id)
    assert s["status"] == "stopped" and s["pulses_delivered"] < 3000
    # every pulse the device fired is in the record; none was recorded after the device's end
    assert s["pulses_recorded"] == s["pulses_delivered"] == end["detail"]["pulses_delivered"]
    last_pulse = clinic.db.execute("SELECT max(device_t_ms) FROM pulses WHERE session_id = ?",
                                   [session_id]).fetchone()[0]
    assert end["detail"] and last_pulse is not None
    # the handoff note says why, though the reason came after the end of the record
    note = build_note(clinic.db, session_id)
    assert note.today.outcome_words.endswith("Patient asked to stop"), note.today.outcome_words


def test_f6_pauses_the_device_before_the_dialog_and_a_skipped_reason_stays_not_given(
        qtbot, clinic, monkeypatch) -> None:
    with SimulatorProcess("10hz", speed=20, seed=12, pose_hz=10) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        try:
            to_running(qtbot, ws)
            qtbot.waitUntil(lambda: snapshot(ws).pulses_delivered > 50, timeout=WAIT_MS)
            session_id = ws.runner.session_id
            opened = watch_dialogs(monkeypatch)
            pressed = utc_now()
            press(qtbot, ws, Qt.Key.Key_F6)
            qtbot.waitUntil(lambda: bool(opened), timeout=WAIT_MS)
            assert opened[0]["state"] == "paused"  # the console paused before it asked anything
            dialog = opened[0]["dialog"]
            # The device stops delivering while the question is still open.
            qtbot.waitUntil(lambda: snapshot(ws).device_state == "PAUSED", timeout=WAIT_MS)
            assert dialog.isVisible()
            held = snapshot(ws).pulses_delivered
            dialog.buttons.rejected.emit()  # "Skip: reason not given"
            qtbot.waitUntil(lambda: ws.session_view.dialog is None, timeout=5000)
            assert snapshot(ws).pulses_delivered == held
            ws.session_view.stop("Test ends here")
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.end_page, timeout=WAIT_MS)
        finally:
            ws.shutdown()
    rows = events(clinic.db, session_id)
    acks = [r for r in rows if r["kind"] == "command" and r["code"] == "PAUSE"
            and r["detail"]["outcome"] == "acknowledged"]
    assert acks and pressed <= acks[0]["at"] <= opened[0]["at"]
    pause = next(r for r in rows if r["kind"] == "pause")
    assert pause["detail"] == {"source": "console"}  # no reason was known at the press
    reason = next(r for r in rows if r["kind"] == "reason")
    assert reason["code"] == "pause"
    assert reason["detail"] == {"reason": "not given", "given": False, "pressed_at": pause["at"]}
    note = build_note(clinic.db, session_id)  # nothing invented for the note either
    assert all("not given" not in line for line in note.today.interruptions), note.today.interruptions


def test_a_recording_only_device_says_at_once_to_stop_it_at_its_panel(
        qtbot, itbs_clinic, monkeypatch) -> None:
    clinic = itbs_clinic
    with SimulatorProcess("itbs", speed=5, seed=13, pose_hz=10, no_commands=True, mso=62) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        try:
            # the device runs on its own (it starts itself): the console follows and records it
            choose_patient(qtbot, ws, "P-1001")
            answer_checklist_with_keys(qtbot, ws)
            ws.device_panel.connect_button.click()
            qtbot.waitUntil(lambda: ws.runner is not None, timeout=WAIT_MS)
            qtbot.waitUntil(lambda: snapshot(ws).state == "running", timeout=WAIT_MS)
            opened = watch_dialogs(monkeypatch)
            press(qtbot, ws, Qt.Key.Key_F8)
            qtbot.waitUntil(lambda: bool(opened), timeout=WAIT_MS)
            dialog = opened[0]["dialog"]
            assert dialog.urgent.isVisible()
            assert "Stop the stimulator at its own panel now" in dialog.urgent.text()
            assert dialog.urgent.font().pixelSize() >= 24 or dialog.urgent.font().pointSize() >= 18
            # The device goes on until someone stops it at its panel: the band says so, and its
            # pulses are still recorded, never lost behind an early end of the record.
            qtbot.waitUntil(lambda: snapshot(ws).stopping_at_panel, timeout=WAIT_MS)
            assert ws.session_view.band.headline.text() == "Stop the stimulator at its own panel now"
            held = snapshot(ws).pulses_recorded
            qtbot.waitUntil(lambda: snapshot(ws).pulses_recorded > held + 3, timeout=WAIT_MS)
            assert snapshot(ws).state != "ended"
            session_id = ws.runner.session_id
            dialog.buttons.rejected.emit()
        finally:
            ws.shutdown()
    end = next(r for r in events(clinic.db, session_id) if r["kind"] == "end")
    assert end["code"] == "stopped" and end["detail"]["stopped_at_panel"] is True
    assert end["detail"]["pulses_after_stop"] > 3 and end["detail"]["pulses_ceased_at"]
    s = clinic.db["sessions"].get(session_id)
    assert s["pulses_recorded"] == s["pulses_delivered"]  # nothing fired that is not in the record
