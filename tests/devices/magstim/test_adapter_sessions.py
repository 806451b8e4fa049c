"""The Magstim adapter against the simulated unit, through a real pty: whole sessions as a clinic runs them.

The simulator writes every pulse it delivers to its pulse log: the truth the
adapter's record is held to (every pulse once, at its power).
"""

from __future__ import annotations

import os
import stat
import time
from collections import Counter
from pathlib import Path

import pytest

from devices import events as ev
from devices.adapter import CommandRefused, CommandUnsupported, DeviceAdapter, DeviceError
from devices.magstim.adapter import from_url
from devices.magstim.capture import HEADER, CaptureReader
from devices.replay import from_url as replay_url
from devices.sim.plan import load_presets

from .support import UNLOCK, MagstimSim

SPEED = 100
"""Fast, yet the unit's 1-min auto-disarm (0.6 s real) stays well above the adapter's rests."""


def collect(adapter: DeviceAdapter, until: type, timeout: float) -> list[ev.DeviceEvent]:
    """Events until one of type ``until`` (included) or ``timeout`` seconds."""
    out: list[ev.DeviceEvent] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in adapter.events(idle_timeout=0.1):
            out.append(event)
            if isinstance(event, until):
                return out
    return out


def run_preset(adapter: DeviceAdapter, key: str, mso: int) -> None:
    """What the console's runner sends at Start: LOAD, SET, START."""
    p = load_presets()[key]
    adapter.command("LOAD", p.name, p.freq_hz, p.pulses_per_train, p.trains, p.iti_s, p.burst)
    adapter.command("SET", mso)
    adapter.command("START")


def test_a_whole_10hz_session_is_recorded_pulse_by_pulse(tmp_path: Path) -> None:
    capture = tmp_path / "session.mscap"
    with MagstimSim(tmp_path, "--unlock", UNLOCK, "--speed", str(SPEED), "--mso", "30") as sim:
        url = (f"magstim+serial://{sim.port}?model=rapid&unlock={UNLOCK}&control=1&speed={SPEED}"
               f"&capture={capture}")
        adapter = from_url(url)
        assert UNLOCK not in adapter.url and "unlock=***" in adapter.url and UNLOCK not in repr(adapter)
        adapter.url = url  # what the registry does after building it: the code must not come back
        assert UNLOCK not in adapter.url
        with adapter:
            assert adapter.observes_pulses and adapter.supports("START")
            assert adapter.identity is not None and adapter.identity.model == "Rapid²"
            assert adapter.identity.firmware == "9.4.0"
            run_preset(adapter, "10hz", 60)
            events = collect(adapter, ev.EndOfSession, 120)
        counters = adapter.counters()  # closed: the whole session's
        events += adapter.events(idle_timeout=0)  # polls after the end, until close
    pulses = [e for e in events if isinstance(e, ev.Pulse)]
    assert [p.count for p in pulses] == list(range(1, 3001))
    assert {p.mso for p in pulses} == {60}
    trains = Counter(e.phase for e in events if isinstance(e, ev.Train))
    assert trains == {"START": 75, "END": 75}
    assert all(e.pulses == 40 for e in events if isinstance(e, ev.Train))
    ends = [e for e in events if isinstance(e, ev.EndOfSession)]
    assert [(e.pulses, e.reason) for e in ends] == [(3000, "COMPLETE")]
    loaded = [e for e in events if isinstance(e, ev.ProtocolLoaded)]
    assert loaded and loaded[0].spec == load_presets()["10hz"]
    statuses = [e for e in events if isinstance(e, ev.Status)]
    assert statuses and all(s.coil_temp_c is not None for s in statuses[1:])
    # inside a train, pulses are 100 ms apart on the unit's clock: the commanded times
    assert pulses[1].device_t - pulses[0].device_t == 100
    # the unit's own log: the same 3000 pulses, at the same power, each once
    delivered = [r for r in sim.records("pulse") if r["kind"] == "pulse"]
    assert len(delivered) == 3000 and {r["power"] for r in delivered} == {60}
    assert counters.rejected == 0 and counters.missing == 0

    # the capture: private, the unlock code masked, and it replays to the same events and counts
    data = capture.read_bytes()
    assert data.startswith(HEADER)
    assert UNLOCK.encode() not in data and UNLOCK.encode().hex().encode() not in data
    assert stat.S_IMODE(os.stat(capture).st_mode) == 0o600
    reader = CaptureReader()
    body = data[len(HEADER):]
    replayed: list[ev.DeviceEvent] = []
    for i in range(0, len(body), 1000):
        replayed += reader.feed(body[i:i + 1000])
    live = [e for e in events if not isinstance(e, (ev.DeviceLost, ev.DeviceRestored))]
    assert replayed == live
    assert (reader.received, reader.rejected, reader.missing) == counters[:3]
    # and through replay://, as the console plays a capture (its header names the vendor)
    with replay_url(f"replay://{capture}") as replay:
        assert list(replay.events()) == live
        assert replay.counters()[:3] == counters[:3]


def test_an_itbs_session_fired_from_the_trigger_input_is_recorded_without_pulses(tmp_path: Path) -> None:
    with MagstimSim(tmp_path, "--unlock", UNLOCK, "--speed", "100", "--mso", "50",
                    "--protocol", "itbs", "--panel-start", "5") as sim, \
            from_url(f"magstim+serial://{sim.port}?model=rapid&unlock={UNLOCK}&speed=100") as adapter:
        assert not adapter.observes_pulses and not adapter.supports("LOAD")
        with pytest.raises(CommandUnsupported):
            adapter.command("START")
        events: list[ev.DeviceEvent] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            events += adapter.events(idle_timeout=0.2)
            if len([r for r in sim.records("pulse") if r["kind"] == "pulse"]) >= 600 and any(
                    isinstance(e, ev.Status) and e.state == "IDLE" and e.host_t > time.monotonic() - 1
                    for e in events[-3:]):
                break
    delivered = [r for r in sim.records("pulse") if r["kind"] == "pulse"]
    assert len(delivered) == 600 and {r["source"] for r in delivered} == {"ttl"}
    assert not [e for e in events if isinstance(e, (ev.Pulse, ev.Train))]  # not observed, never zero pulses
    statuses = [e for e in events if isinstance(e, ev.Status)]
    assert {s.mso for s in statuses} == {50}
    assert "ARMED" in {s.state for s in statuses}
    assert max(s.coil_temp_c or 0 for s in statuses) > 24.0
    hello = [e for e in events if isinstance(e, ev.Hello)]
    assert hello and hello[0].model == "Rapid²"


def test_theta_burst_cannot_be_loaded_over_serial(tmp_path: Path) -> None:
    with MagstimSim(tmp_path, "--unlock", UNLOCK, "--speed", "100") as sim, \
            from_url(f"magstim+serial://{sim.port}?model=rapid&unlock={UNLOCK}&control=1") as adapter:
        p = load_presets()["itbs"]
        with pytest.raises(CommandRefused) as refused:
            adapter.command("LOAD", p.name, p.freq_hz, p.pulses_per_train, p.trains, p.iti_s, p.burst)
        assert "trigger input" in str(refused.value) and refused.value.reason == "UNSUPPORTED"
        # a train the energy rules forbid is refused with the reason, before anything is sent
        adapter.command("SET", 100)
        with pytest.raises(CommandRefused) as too_hot:
            adapter.command("LOAD", "20 Hz", 20.0, 80, 10, 2.0, 1)
        assert "Rapid" in str(too_hot.value)


def test_a_silent_unit_is_a_clear_error_within_3_s(tmp_path: Path) -> None:
    with MagstimSim(tmp_path, "--unlock", UNLOCK, "--scenario", "unlock-wrong") as sim:
        adapter = from_url(f"magstim+serial://{sim.port}?model=rapid&unlock={UNLOCK}")
        started = time.monotonic()
        with pytest.raises(DeviceError) as error:
            adapter.open()
        assert time.monotonic() - started < 3.0
        message = str(error.value)
        assert "did not answer" in message and "unlock code" in message and UNLOCK not in message
        adapter.close()


def test_nothing_on_the_line_is_a_clear_error_within_3_s() -> None:
    master, slave = os.openpty()
    try:
        adapter = from_url(f"magstim+serial://{os.ttyname(slave)}?model=200")
        started = time.monotonic()
        with pytest.raises(DeviceError, match="did not answer"):
            adapter.open()
        assert time.monotonic() - started < 3.0
    finally:
        os.close(master)
        os.close(slave)


def test_pause_and_resume_continue_the_protocol(tmp_path: Path) -> None:
    """Paused in a rest (after train 1 ended), resumed: trains 2 and 3 follow, the rest still kept."""
    with MagstimSim(tmp_path, "--unlock", UNLOCK, "--speed", "5") as sim, \
            from_url(f"magstim+serial://{sim.port}?model=rapid&unlock={UNLOCK}&control=1&speed=5") \
            as adapter:
        adapter.command("LOAD", "10 Hz short", 10.0, 40, 3, 5.0, 1)
        adapter.command("START")
        events: list[ev.DeviceEvent] = []
        while not any(isinstance(e, ev.Train) and e.phase == "END" for e in events):
            events += collect(adapter, ev.Train, 10)
        adapter.command("PAUSE")
        events += collect(adapter, type(None), 1.5)
        adapter.command("RESUME")
        events += collect(adapter, ev.EndOfSession, 30)
    pulses = [e for e in events if isinstance(e, ev.Pulse)]
    delivered = [r for r in sim.records("pulse") if r["kind"] == "pulse"]
    end = events[-1]
    assert isinstance(end, ev.EndOfSession) and (end.reason, end.pulses) == ("COMPLETE", 120)
    assert [p.count for p in pulses] == list(range(1, 121)) and len(delivered) == 120
    assert [e.train for e in events if isinstance(e, ev.Train) and e.phase == "START"] == [1, 2, 3]
    assert "PAUSED" in {e.state for e in events if isinstance(e, ev.Status)}
    gap_ms = pulses[40].device_t - pulses[39].device_t
    assert gap_ms >= 1500 * 5  # the paused time (which covered the 5 s rest), on the unit's clock


def test_the_wrong_model_in_the_address_is_said_plainly(tmp_path: Path) -> None:
    with MagstimSim(tmp_path, "--model", "200") as sim:
        adapter = from_url(f"magstim+serial://{sim.port}?model=rapid")
        with pytest.raises(DeviceError, match="not as a Rapid²: check model="):
            adapter.open()
        adapter.close()


def test_a_hot_coil_disarms_the_unit_and_pauses_the_run(tmp_path: Path) -> None:
    with MagstimSim(tmp_path, "--unlock", UNLOCK, "--speed", "100", "--scenario", "temp-drift") as sim, \
            from_url(f"magstim+serial://{sim.port}?model=rapid&unlock={UNLOCK}&control=1&speed=100") \
            as adapter:
        run_preset(adapter, "10hz", 60)
        events = collect(adapter, ev.Fault, 60)
        with pytest.raises(CommandRefused, match="°C"):  # above 40 °C the unit cannot be armed
            adapter.command("RESUME")
        events += collect(adapter, type(None), 1.0)
    faults = [e for e in events if isinstance(e, ev.Fault)]
    assert faults and faults[0].code == "COIL_OVERTEMP" and "°C" in (faults[0].text or "")
    assert "FAULT" in {e.state for e in events if isinstance(e, ev.Status)}
    assert not [e for e in events if isinstance(e, ev.EndOfSession)]
    delivered = len([r for r in sim.records("pulse") if r["kind"] == "pulse"])
    recorded = len([e for e in events if isinstance(e, ev.Pulse)])
    # pulses between the unit's own disarm and the next reply are the commanded ones (documented)
    assert delivered <= recorded <= delivered + 40


def test_a_pulled_cable_is_lost_then_restored(tmp_path: Path) -> None:
    link = tmp_path / "ttyMagstim"
    capture = tmp_path / "cable.mscap"
    with MagstimSim(tmp_path, "--unlock", UNLOCK, "--link", str(link), "--scenario", "cable-pulled",
                    "--scenario-at", "1.5"), \
            from_url(f"magstim+serial://{link}?model=rapid&unlock={UNLOCK}&capture={capture}") as adapter:
        lost = collect(adapter, ev.DeviceLost, 15)
        assert isinstance(lost[-1], ev.DeviceLost)
        back = collect(adapter, ev.DeviceRestored, 20)
        assert isinstance(back[-1], ev.DeviceRestored)
        after = collect(adapter, ev.Status, 5)
        assert isinstance(after[-1], ev.Status)
    counters = adapter.counters()  # closed: the whole session's
    rest = list(adapter.events(idle_timeout=0))  # what came after, until close
    # the greeting after the return (unlock again, version) is in the capture too, masked
    data = capture.read_bytes()
    assert data.count(b"> ") >= 2 and UNLOCK.encode().hex().encode() not in data
    reader = CaptureReader()
    replayed = reader.feed(data[len(HEADER):])
    assert replayed == lost + back + after + rest
    assert (reader.received, reader.rejected, reader.missing) == counters[:3]


def test_garbage_on_the_line_is_counted_never_recorded(tmp_path: Path) -> None:
    with MagstimSim(tmp_path, "--model", "200", "--scenario", "garbage", "--mso", "40") as sim, \
            from_url(f"magstim+serial://{sim.port}?model=200") as adapter:
        events = collect(adapter, type(None), 6)
        counters = adapter.counters()
    injected = sum(r.get("rejected", 0) for r in sim.records("fault"))
    assert injected > 0
    assert injected <= counters.rejected <= injected + counters.missing
    assert {e.mso for e in events if isinstance(e, ev.Status)} == {40}
    assert all(len(piece) > 0 for piece in counters.rejected_lines)


def test_keep_alive_holds_remote_control_through_the_rests(tmp_path: Path) -> None:
    """The unit drops remote control and disarms 1 s (real time) after the last command while armed:
    the run completes only if the adapter keeps talking through every rest."""
    with MagstimSim(tmp_path, "--unlock", UNLOCK, "--speed", "10") as sim, \
            from_url(f"magstim+serial://{sim.port}?model=rapid&unlock={UNLOCK}&control=1&speed=10") \
            as adapter:
        adapter.command("LOAD", "10 Hz short", 10.0, 40, 3, 26.0, 1)
        adapter.command("START")
        events = collect(adapter, ev.EndOfSession, 30)
    end = events[-1]
    assert isinstance(end, ev.EndOfSession) and (end.pulses, end.reason) == (120, "COMPLETE")
    assert not [r for r in sim.records("pulse") if r["kind"] == "disarm" and "remote" in r["reason"]]


def test_a_coil_unplugged_is_a_fault_until_it_is_back(tmp_path: Path) -> None:
    with MagstimSim(tmp_path, "--model", "200", "--scenario", "coil-unplugged", "--scenario-at", "1") \
            as sim, \
            from_url(f"magstim+serial://{sim.port}?model=200") as adapter:
        events = collect(adapter, ev.Fault, 10)
        events += collect(adapter, ev.Cleared, 10)
    fault = [e for e in events if isinstance(e, ev.Fault)]
    assert fault and fault[0].code == "COIL_DISCONNECTED" and "no coil" in (fault[0].text or "")
    assert isinstance(events[-1], ev.Cleared) and events[-1].code == "COIL_DISCONNECTED"
