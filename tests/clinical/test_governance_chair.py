"""Issue 14, item 1, where a person acts: at the chair's Start, a device that takes no commands
and is set above the prescription asks for a physician's signature (items 1 and 7), not a
technician's reason, nor the lead technician's. The real simulator on a pty, the real
runner and SQLite file, real widgets offscreen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.ui.chair.start_checks import PhysicianOverrideDialog
from console.ui.chair.technician import TechnicianWorkspace
from devices.sim.process import SimulatorProcess
from tests.ui.conftest import make_clinic
from tests.ui.drive import WAIT_MS, answer_checklist_with_keys, choose_patient, show, snapshot, wait_connected

pytestmark = pytest.mark.slow


@pytest.fixture
def itbs_clinic(tmp_path: Path, fast_hasher):
    clinic = make_clinic(tmp_path / "clinic.db", "itbs")
    yield clinic
    clinic.db.close()


def test_a_recording_only_device_above_the_prescription_needs_a_signed_override(qtbot, itbs_clinic) -> None:
    clinic = itbs_clinic  # iTBS at 120 % of MT 52: 62 % MSO; the device is set to 66 (126.9 % MT)
    with SimulatorProcess("itbs", speed=1, seed=6, pose_hz=10, no_commands=True, mso=66) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        try:
            choose_patient(qtbot, ws, "P-1001")
            answer_checklist_with_keys(qtbot, ws)
            ws.device_panel.connect_button.click()
            wait_connected(qtbot, ws)
            qtbot.waitUntil(lambda: snapshot(ws).mso is not None, timeout=WAIT_MS)
            ws.session_view.controls.start.click()  # the console tries to set 62; the device takes no SET
            qtbot.waitUntil(lambda: ws.dialog is not None, timeout=WAIT_MS)
            dialog = ws.dialog
            assert isinstance(dialog, PhysicianOverrideDialog)  # not a reason the technician types
            prompt = dialog.prompt.text()
            assert "66 % MSO" in prompt and "126.9 % of the motor threshold" in prompt
            assert "above the prescription of 120 % MT (62 % MSO)" in prompt
            assert "126.9 % MT is above the clinic's maximum of 120 % MT" in prompt
            # the technician cannot sign it
            dialog.username.setText("tina")
            dialog.password.setText("tina's long password")
            dialog.reason.setText("patient tolerates it")
            dialog.buttons.accepted.emit()
            assert dialog.error.text() and ws.dialog is dialog
            # nor the supervisor: it is the physician's decision
            dialog.username.setText("sam")
            dialog.password.setText("sam's long password")
            dialog.reason.setText("patient tolerates it")
            dialog.buttons.accepted.emit()
            assert "a physician can" in dialog.error.text() and ws.dialog is dialog
            # the physician signs
            dialog.username.setText("phil")
            dialog.password.setText("phil's long password")
            dialog.reason.setText("Titration on Dr Lee's order, EEG in the room")
            dialog.buttons.accepted.emit()
            qtbot.waitUntil(lambda: snapshot(ws).state == "running", timeout=WAIT_MS)
            session_id = ws.runner.session_id
            ws.session_view.stop("Test ends here")
            qtbot.waitUntil(lambda: snapshot(ws).stopping_at_panel, timeout=WAIT_MS)
        finally:
            ws.shutdown()
    db = clinic.db
    rows = list(db.query("SELECT kind, signed, by_user, by_role, session_id, violations FROM overrides"))
    assert len(rows) == 1
    [row] = rows
    assert (row["kind"], row["signed"], row["by_user"], row["by_role"], row["session_id"]) == (
        "safety_limit", 1, "phil", "physician", session_id)
    codes = [v["code"] for v in json.loads(row["violations"])]
    assert codes == ["above_prescription", "percent_mt_above_clinic_max", "patterned_percent_mt"]


def test_start_on_a_device_whose_coil_is_not_the_mts_is_refused_until_measured_with_it(
    qtbot, tmp_path: Path, fast_hasher,
) -> None:
    """Issue 14, item 6: the coil check existed in the gate, but nothing gave it the device's coil.
    Now the coil the device reports is checked at Start and kept in the session's record."""
    from console.clinic.records import record_motor_threshold

    clinic = make_clinic(tmp_path / "clinic.db", "10hz")
    record_motor_threshold(clinic.db, clinic.patient.id, 52.0, "EMG", coil_type="H-coil")
    try:
        with SimulatorProcess("10hz", speed=1, seed=7, pose_hz=10) as sim:  # reports coil SIM-COIL-70
            ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
            show(qtbot, ws)
            try:
                choose_patient(qtbot, ws, "P-1001")
                answer_checklist_with_keys(qtbot, ws)
                ws.device_panel.connect_button.click()
                wait_connected(qtbot, ws)
                qtbot.waitUntil(lambda: snapshot(ws).coil_type is not None, timeout=WAIT_MS)
                assert snapshot(ws).coil_type == "SIM-COIL-70"
                ws.session_view.controls.start.click()
                said = ws.session_view.message.text()
                assert "H-coil" in said and "SIM-COIL-70" in said and "re-measure" in said
                assert "Who can clear this" in said
                assert snapshot(ws).state == "ready"  # nothing started, nothing sent
                # measured again with this coil (as the chair's Motor threshold form keeps it)
                record_motor_threshold(clinic.db, clinic.patient.id, 52.0, "EMG", coil_type="SIM-COIL-70")
                ws.session_view.controls.start.click()
                qtbot.waitUntil(lambda: snapshot(ws).state == "running", timeout=WAIT_MS)
                session_id = ws.runner.session_id
                ws.session_view.stop("Test ends here")
                qtbot.waitUntil(lambda: snapshot(ws).state == "ended", timeout=WAIT_MS)
            finally:
                ws.shutdown()
        coil = clinic.db.execute("SELECT coil_type FROM sessions WHERE id = ?", [session_id]).fetchone()[0]
        assert coil == "SIM-COIL-70"
    finally:
        clinic.db.close()
