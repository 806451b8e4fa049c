"""A whole session driven from the technician's screens: the real simulator as
its own process on a pty, the real adapter, runner and SQLite file, real
widgets offscreen. A person's clicks and keys are the only input."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from console.ui.chair.technician import TechnicianWorkspace
from devices.sim.process import SimulatorProcess
from tests.ui.drive import WAIT_MS, answer_checklist_with_keys, choose_patient, show, snapshot, wait_connected

pytestmark = pytest.mark.slow


def events(db, session_id: int) -> list[dict]:
    return list(db.query("SELECT kind, code, detail, by_user FROM session_events WHERE session_id = ? "
                         "ORDER BY id", [session_id]))


def test_a_whole_10hz_session_from_the_ui(qtbot, clinic) -> None:
    with SimulatorProcess("10hz", speed=400, seed=7, pose_hz=10) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        try:
            choose_patient(qtbot, ws, "P-1001")
            answer_checklist_with_keys(qtbot, ws)
            view = ws.session_view
            assert ws.device_panel.url.currentText() == sim.url
            qtbot.mouseClick(ws.device_panel.connect_button, Qt.MouseButton.LeftButton)
            wait_connected(qtbot, ws)
            assert "SIM-1" in ws.device_panel.identity.text()
            qtbot.mouseClick(view.controls.start, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: snapshot(ws).state == "running" and snapshot(ws).pulses_delivered > 200,
                            timeout=WAIT_MS)
            # A pause (at the click), its reason asked afterwards, then resume.
            qtbot.mouseClick(view.controls.pause, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: view.dialog is not None, timeout=WAIT_MS)
            dialog = view.dialog
            dialog.choice.setCurrentText("Patient asked to pause")
            qtbot.mouseClick(dialog.buttons.buttons()[0], Qt.MouseButton.LeftButton)
            # The person sees the device stop (its own status says so) before resuming.
            qtbot.waitUntil(lambda: snapshot(ws).device_state == "PAUSED", timeout=WAIT_MS)
            assert snapshot(ws).state == "paused" and view.band.headline.text() == "Paused"
            qtbot.mouseClick(view.controls.resume, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: snapshot(ws).state == "running", timeout=WAIT_MS)
            # A note and a side effect while it runs.
            qtbot.mouseClick(view.controls.note, Qt.MouseButton.LeftButton)
            view.dialog.text.setPlainText("Talked about her garden.")
            view.dialog.buttons.accepted.emit()
            qtbot.mouseClick(view.controls.side_effects["scalp_discomfort"], Qt.MouseButton.LeftButton)
            view.dialog.rating.setValue(3)
            view.dialog.buttons.accepted.emit()
            # The plots follow the session as it goes.
            qtbot.waitUntil(lambda: view.plots.buffers.pulse_t.size > 300, timeout=WAIT_MS)
            # The run goes to its end; the end-of-session screen sums it up.
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.end_page, timeout=WAIT_MS)
            end = ws.end_page
            assert end.title.text().startswith("Session completed — P-1001")
            assert end.pulses.value.text() == "3 000 / 3 000"
            assert end.pauses.value.text() == "1"
            assert end.on_target.value.text() == "100 %"
            assert "Scalp discomfort: 3/10" in end.side_effect_list.item(0).text()
            end.observations.mood.setEditText("Calm")
            end.observations.patient_said.setPlainText("I slept better this week.")
            end.observations.technician_saw.setPlainText("Smiled when greeted; sat still throughout.")
            end.observations.wants_to_work_on.setText("getting back to walking")
            qtbot.mouseClick(end.proceed, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.note_page, timeout=10_000)
            session_id = end.session_id
        finally:
            ws.shutdown()
    db = clinic.db
    s = db["sessions"].get(session_id)
    assert (s["status"], s["pulses_delivered"], s["pulses_recorded"]) == ("completed", 3000, 3000)
    assert s["pauses"] == 1
    assert s["technician"] == "tina"
    rows = events(db, session_id)
    kinds = [r["kind"] for r in rows]
    for kind in ("checklist", "pause", "resume", "note", "side_effect", "observation"):
        assert kind in kinds, f"no {kind} event in {kinds}"
    pause = next(r for r in rows if r["kind"] == "pause")
    reason = next(r for r in rows if r["kind"] == "reason" and r["code"] == "pause")
    assert "Patient asked to pause" in (reason["detail"] or "")
    assert pause["by_user"] == reason["by_user"] == "tina"
    observation = json.loads(next(r for r in rows if r["kind"] == "observation")["detail"])
    assert observation == {
        "mood": "Calm", "patient_said": "I slept better this week.",
        "technician_saw": "Smiled when greeted; sat still throughout.",
        "wants_to_work_on": "getting back to walking",
    }
    checklist = json.loads(next(r for r in rows if r["kind"] == "checklist")["detail"])
    answered = {a["id"]: a["answer"] for a in checklist["answers"]}
    expected = {"metal_removed": "yes", "medication_change": "no", "sleep_change": "no",
                "alcohol_drugs": "no", "ear_protection": "yes"}
    assert {k: answered[k] for k in expected} == expected
    assert set(answered.values()) <= {"yes", "no"}


def test_a_recording_only_device_at_another_intensity_needs_an_override(qtbot, itbs_clinic) -> None:
    """The device takes no commands and is set to 58 % MSO, the prescription is 62: the
    console says so before the start, asks for a reason, records it, then arms and waits
    for the device's own run (real time here: the device starts itself a second after
    the console connects, so the technician answers within that second)."""
    clinic = itbs_clinic
    with SimulatorProcess("itbs", speed=1, seed=6, pose_hz=10, no_commands=True, mso=58) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        try:
            choose_patient(qtbot, ws, "P-1001")
            answer_checklist_with_keys(qtbot, ws)
            ws.device_panel.connect_button.click()
            wait_connected(qtbot, ws)
            qtbot.waitUntil(lambda: snapshot(ws).mso is not None, timeout=WAIT_MS)
            assert "58 % MSO ≠ prescribed 62" in ws.device_panel.intensity.text()
            ws.session_view.controls.start.click()  # the console first tries to set 62; the device refuses
            qtbot.waitUntil(lambda: ws.dialog is not None, timeout=WAIT_MS)
            dialog = ws.dialog
            assert "58 % MSO" in dialog.prompt.text() and "62 % MSO" in dialog.prompt.text()
            dialog.choice.setCurrentText("Supervisor instruction")
            dialog.details.setText("Dr Super: stay at 58 today after last week's headache")
            dialog.buttons.accepted.emit()
            qtbot.waitUntil(lambda: snapshot(ws).state == "running" and snapshot(ws).pulses_delivered > 3,
                            timeout=WAIT_MS)
            session_id = ws.runner.session_id
            qtbot.waitUntil(lambda: "intensity" in ws.session_view.band.kinds, timeout=WAIT_MS)
            assert not ws.session_view.band.sound.audible  # shown, but not sounding all session
            assert ws.session_view.message.text() == ""
            ws.session_view.stop("Test ends here")  # the device takes no STOP: it is stopped at its panel,
            # and the record stays open while its pulses still come (issue 20, item 1); closing ends it
            qtbot.waitUntil(lambda: snapshot(ws).stopping_at_panel, timeout=WAIT_MS)
        finally:
            ws.shutdown()
    db = clinic.db
    override = next(db.query("SELECT reason, by_user, session_id FROM overrides WHERE kind = 'intensity'"))
    assert override["session_id"] == session_id and override["by_user"] == "tina"
    assert override["reason"].startswith("Supervisor instruction: Dr Super")
    events = [r["kind"] for r in db.query("SELECT kind FROM session_events WHERE session_id = ?",
                                          [session_id])]
    assert events.index("armed") < events.index("run_started")  # armed, then the device's own run
    assert db["sessions"].get(session_id)["status"] == "stopped"
    # the console's SET went through the runner: in the record with the device's answer
    tried = [(r["code"], json.loads(r["detail"])["outcome"], r["by_user"]) for r in db.query(
        "SELECT code, detail, by_user FROM session_events WHERE session_id = ? AND kind = 'command' "
        "ORDER BY id", [session_id])]
    sets = [t for t in tried if t[0] == "SET"]  # (a LOAD of the course's protocol may come first)
    assert sets[:2] == [("SET", "sent", "tina"), ("SET", "unsupported", "tina")]
