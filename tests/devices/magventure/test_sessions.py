"""Whole sessions recorded from the simulated MagPro through the adapter on a real pty: every
pulse once with its intensity and di/dt, trains, identity and coil; the capture replays to the
same events and counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices import events as ev
from devices.magventure.adapter import MagVentureAdapter, from_url
from devices.magventure.capture import HEADER, CaptureReader, read_capture
from devices.magventure.sim.process import MagProProcess
from devices.sim.plan import load_presets

from .support import collect, drain, n_pulses, of, pulses


def record_session(preset: str, speed: float, tmp_path: Path
                   ) -> tuple[list[ev.DeviceEvent], MagVentureAdapter, Path]:
    capture = tmp_path / "session.mvcap"
    with MagProProcess("--protocol", preset, "--speed", str(speed), "--autostart", "--mso", "58") as sim:
        adapter = from_url(f"{sim.url}&capture={capture}")
        adapter.open()
        try:
            spec = load_presets()[preset]
            events = collect(adapter, n_pulses(spec.planned_pulses), timeout=120)
            # the unit never says the session ended: the last train's END is the last thing it sends
            events += collect(adapter, lambda evs: any(
                isinstance(e, ev.Train) and e.phase == "END" and e.train == spec.trains for e in evs),
                timeout=30)
        finally:
            adapter.close()
        events += drain(adapter)
        return events, adapter, capture


@pytest.mark.parametrize("preset, speed", [("10hz", 500.0), ("itbs", 100.0)])
def test_a_whole_session_is_recorded_pulse_by_pulse(preset: str, speed: float, tmp_path: Path) -> None:
    spec = load_presets()[preset]
    events, adapter, capture = record_session(preset, speed, tmp_path)

    hello = of(events, ev.Hello)
    assert [(h.vendor, h.model, h.serial) for h in hello] == [
        ("MagVenture", "MagPro X100 + MagOption", "51234")]
    assert adapter.identity == hello[0]
    statuses = of(events, ev.Status)
    assert statuses and {s.coil_id for s in statuses} == {"C-B60 (type 72)"}
    assert all(s.coil_temp_c is not None for s in statuses)

    got = pulses(events)
    assert [p.count for p in got] == list(range(1, spec.planned_pulses + 1))  # every pulse once
    assert {p.mso for p in got} == {58}
    assert all(p.didt is not None and 80 <= p.didt <= 100 for p in got)  # 58 % x 1.6 A/us per %

    trains = of(events, ev.Train)
    assert [(t.train, t.phase) for t in trains] == [
        (n, phase) for n in range(1, spec.trains + 1) for phase in ("START", "END")]
    assert {t.pulses for t in trains if t.phase == "END"} == {spec.pulses_per_train}
    received, rejected, missing, _ = adapter.counters()
    assert (rejected, missing) == (0, 0)

    # the capture replays to the same events and counts
    assert capture.read_bytes().startswith(HEADER)
    assert oct(capture.stat().st_mode & 0o777) == "0o600"
    replayed, reader = read_capture(capture)
    assert replayed == events
    assert (reader.received, reader.rejected, reader.missing) == (received, rejected, missing)


def test_capture_replays_in_any_split(tmp_path: Path) -> None:
    _events, _adapter, capture = record_session("itbs", 200.0, tmp_path)
    whole, _ = read_capture(capture)
    data = capture.read_bytes()[len(HEADER):]
    reader = CaptureReader()
    pieces = []
    for i in range(0, len(data), 7):
        pieces += reader.feed(data[i:i + 7])
    assert pieces == whole
