"""Start is enabled only once the device has confirmed the course's protocol (issue 20, item 11).

An iTBS course on a device that has 10 Hz rTMS loaded: the console asks the device to load
the course's protocol as soon as it is connected, and Start stays disabled, with the panel
saying what it waits for, until the device itself reports the course's protocol.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from console.clinic.protocols import ProtocolSpec
from console.ui.chair.device_panel import DevicePanel
from console.ui.chair.session_view import SessionView
from console.ui.chair.technician import TechnicianWorkspace
from devices import events as ev
from devices.sim.process import SimulatorProcess
from tests.engine.feed import Feed
from tests.ui.drive import WAIT_MS, answer_checklist_with_keys, choose_patient, show, snapshot
from tests.ui.fakes import FakeRunner

ITBS = ProtocolSpec("iTBS left DLPFC", 5.0, 30, 20, 8.0, 3)
TEN_HZ = ProtocolSpec("10 Hz rTMS left DLPFC", 10.0, 40, 75, 26.0, 1)


def _loaded(feed: Feed, spec: ProtocolSpec) -> None:
    feed.send(ev.ProtocolLoaded(feed.t, feed.h, spec.name, spec.freq_hz, spec.pulses_per_train,
                                spec.trains, spec.iti_s, spec.burst))


def test_start_waits_for_the_device_to_report_the_courses_protocol(qtbot) -> None:
    feed = Feed(protocol=ITBS, prescribed_mso=62)
    feed.status("IDLE")
    _loaded(feed, TEN_HZ)  # what the device had loaded before
    waiting = dataclasses.replace(feed.rec.snapshot(), device_connected=True)
    assert waiting.protocol_confirmed is False
    view = SessionView()
    panel = DevicePanel()
    for widget in (view, panel):
        qtbot.addWidget(widget)
    panel.expect(ITBS.name, 62)
    panel.is_connected = True
    runner = FakeRunner(waiting)
    view.attach(runner)
    try:
        panel.show_snapshot(waiting)
        assert not view.controls.start.isEnabled()
        assert "not confirmed" in panel.protocol.text() and ITBS.name in panel.protocol.text()
        assert TEN_HZ.name not in panel.protocol.text()
        assert "confirm" in view.band.detail.text()
        _loaded(feed, ITBS)  # the device answers the LOAD with the course's protocol
        confirmed = dataclasses.replace(feed.rec.snapshot(), device_connected=True)
        assert confirmed.protocol_confirmed is True
        runner.snap = confirmed
        view.bridge.tick()
        panel.show_snapshot(confirmed)
        assert view.controls.start.isEnabled()
        assert panel.protocol.text() == ITBS.name
    finally:
        view.detach()


@pytest.mark.slow
def test_an_itbs_course_on_a_10hz_device_enables_start_only_after_the_device_loaded_itbs(
        qtbot, itbs_clinic) -> None:
    clinic = itbs_clinic
    with SimulatorProcess("10hz", speed=20, seed=21, pose_hz=10) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        seen: list[tuple[bool, str | None]] = []
        try:
            choose_patient(qtbot, ws, "P-1001")
            answer_checklist_with_keys(qtbot, ws)
            ws.device_panel.connect_button.click()
            qtbot.waitUntil(lambda: ws.runner is not None, timeout=WAIT_MS)
            view = ws.session_view
            view.bridge.updated.connect(
                lambda snap, _p: seen.append((view.controls.start.isEnabled(), snap.protocol_name)))
            qtbot.waitUntil(lambda: view.controls.start.isEnabled(), timeout=WAIT_MS)
            assert snapshot(ws).protocol_name == "iTBS left DLPFC"
            assert ws.device_panel.protocol.text() == "iTBS left DLPFC"
            session_id = ws.runner.session_id
        finally:
            ws.shutdown()
    # never was Start enabled beside another protocol
    assert all(name == "iTBS left DLPFC" for enabled, name in seen if enabled), seen
    loads = [json.loads(r["detail"])["outcome"] for r in clinic.db.query(
        "SELECT detail FROM session_events WHERE session_id = ? AND kind = 'command' AND code = 'LOAD'",
        [session_id])]
    assert "acknowledged" in loads
