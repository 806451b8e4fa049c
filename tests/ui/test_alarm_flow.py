"""Alarms a person must notice, from the simulator's scenarios through the real
pty: the coil drifting off target, and the device unplugged mid-session."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.ui.chair.technician import TechnicianWorkspace
from devices.sim.process import SimulatorProcess
from tests.ui.drive import WAIT_MS, show, snapshot, to_running

pytestmark = pytest.mark.slow


def alarm_events(db, session_id: int) -> list[tuple[str, str]]:
    return [(r["code"], r["detail"]) for r in db.query(
        "SELECT code, detail FROM session_events WHERE session_id = ? AND kind = 'alarm' ORDER BY id",
        [session_id])]


def test_drift_raises_the_off_target_alarm_and_it_is_recorded(qtbot, itbs_clinic) -> None:
    clinic = itbs_clinic
    seen: list[str] = []
    with SimulatorProcess("itbs", speed=40, seed=3, pose_hz=30, scenarios=["drift"]) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        band = ws.session_view.band
        try:
            to_running(qtbot, ws)
            session_id = ws.runner.session_id

            def off_target_shown() -> bool:
                if "off_target" in band.kinds:
                    seen.append(band.headline.text())
                    seen.append(band.property("level"))
                    seen.append(ws.session_view.target.zone_word.text())
                    return True
                return False

            qtbot.waitUntil(off_target_shown, timeout=WAIT_MS)
            assert band.sound.played >= 1
            qtbot.waitUntil(lambda: "off_target" not in band.kinds, timeout=WAIT_MS)  # coil put back
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.end_page, timeout=WAIT_MS)
        finally:
            ws.shutdown()
    assert seen[:2] == ["Coil off target", "alarm"]
    assert seen[2] in ("Off target", "Slightly off target")
    alarms = alarm_events(clinic.db, session_id)
    assert [code for code, _ in alarms].count("off_target") >= 2  # raised, then cleared
    assert '"raised": true' in next(d for c, d in alarms if c == "off_target")


def test_unplug_shows_the_device_lost_banner_and_it_clears(qtbot, itbs_clinic, tmp_path: Path) -> None:
    clinic = itbs_clinic
    link = tmp_path / "ttyTMS"
    with SimulatorProcess("itbs", speed=40, seed=5, pose_hz=10, scenarios=["unplug"], link=link) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        band = ws.session_view.band
        try:
            to_running(qtbot, ws)
            session_id = ws.runner.session_id
            qtbot.waitUntil(lambda: "device_lost" in band.kinds, timeout=WAIT_MS)
            assert band.headline.text() == "Device connection lost"
            assert band.property("level") == "alarm"
            assert "recording resumes" in band.detail.text().lower()
            assert snapshot(ws).state in ("running", "paused")  # the run keeps its state
            assert "reconnecting" in ws.device_panel.status.text()
            qtbot.waitUntil(lambda: "device_lost" not in band.kinds and snapshot(ws).device_connected,
                            timeout=WAIT_MS)
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.end_page, timeout=WAIT_MS)
            recorded_after = ws.end_page.pulses.value.text()
            losses_said = ws.end_page.faults.sub.text()
        finally:
            ws.shutdown()
    kinds = [r["kind"] for r in clinic.db.query(
        "SELECT kind FROM session_events WHERE session_id = ? ORDER BY id", [session_id])]
    # The gap is in the record: when the link went and when it came back.
    assert kinds.index("device_lost") < kinds.index("device_restored"), kinds
    s = clinic.db["sessions"].get(session_id)
    assert (s["status"], s["pulses_delivered"]) == ("completed", 600)
    assert recorded_after.startswith("600")
    assert losses_said == "device connection lost 1×"  # the summary says the link went, too


def test_adverse_event_key_stops_the_run_and_records_the_event(qtbot, itbs_clinic) -> None:
    clinic = itbs_clinic
    with SimulatorProcess("itbs", speed=10, seed=8, pose_hz=10) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        try:
            to_running(qtbot, ws)
            session_id = ws.runner.session_id
            ws.session_view.controls.adverse.click()  # F12 at the chair
            qtbot.waitUntil(lambda: ws.dialog is not None, timeout=5000)
            dialog = ws.dialog
            assert dialog.steps.text().startswith("1. ")  # the clinic's first-aid steps, shown at once
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.end_page, timeout=WAIT_MS)  # the run stopped
            assert ws.end_page.title.text().startswith("Session aborted")
            dialog.kind.setCurrentText("seizure")  # nothing is chosen for the person
            dialog.what.setPlainText("Jaw clenching for about 20 seconds; settled without help.")
            dialog.try_save()
            qtbot.waitUntil(lambda: ws.dialog is None, timeout=5000)
        finally:
            ws.shutdown()
    s = clinic.db["sessions"].get(session_id)
    assert (s["status"], s["end_reason"]) == ("aborted", "adverse event") and s["pulses_delivered"] < 600
    event = next(clinic.db.query("SELECT * FROM adverse_events WHERE session_id = ?", [session_id]))
    assert event["by_user"] == "tina" and "Jaw clenching" in event["description"]
