"""Issue 17 at the chair: the technician adds the coil tracker's address beside the stimulator's
("+ Tracker"), connects both, and the session runs with the tracker's poses; the panel and the
session's record name both devices. Two simulators, each on its own real pty."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from console.ui.chair.technician import TechnicianWorkspace
from devices.sim.process import SimulatorProcess
from tests.ui.drive import WAIT_MS, answer_checklist_with_keys, choose_patient, show, snapshot, wait_connected

pytestmark = pytest.mark.slow


def test_a_session_with_a_separate_tracker_from_the_chair(qtbot, itbs_clinic) -> None:
    clinic = itbs_clinic
    with SimulatorProcess("itbs", speed=50, seed=8, pose_hz=10) as stimulator, \
            SimulatorProcess("itbs", speed=50, seed=9, pose_hz=60, autostart=True) as tracker:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=stimulator.url)
        show(qtbot, ws)
        try:
            choose_patient(qtbot, ws, "P-1001")
            answer_checklist_with_keys(qtbot, ws)
            panel = ws.device_panel
            assert not panel.tracker.isVisible() and panel.add_tracker.isVisible()
            qtbot.mouseClick(panel.add_tracker, Qt.MouseButton.LeftButton)
            assert panel.tracker.isVisible() and not panel.add_tracker.isVisible()
            qtbot.keyClicks(panel.tracker.lineEdit(), tracker.url)
            qtbot.mouseClick(panel.connect_button, Qt.MouseButton.LeftButton)
            wait_connected(qtbot, ws)
            assert tracker.url in panel.address.toolTip() and not panel.tracker.isVisible()
            qtbot.waitUntil(lambda: "Tracker: " in panel.identity.text(), timeout=WAIT_MS)
            assert "SIM-1" in panel.identity.text()  # the stimulator, and under it the tracker
            qtbot.mouseClick(ws.session_view.controls.start, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.end_page, timeout=WAIT_MS)
            session_id = snapshot(ws).session_id
        finally:
            ws.shutdown()
    row = clinic.db.execute("SELECT status, tracker_url, pulses_recorded FROM sessions WHERE id = ?",
                            [session_id]).fetchone()
    assert row == ("completed", tracker.url, 600)
    with_pose = clinic.db.execute("SELECT count(x) FROM pulses WHERE session_id = ?",
                                  [session_id]).fetchone()[0]
    assert with_pose > 0  # poses came in (only the tracker's: tests/engine/test_two_devices.py)
