"""End to end: the simulator process on a real pty, read by the serial adapter as the console reads it.

Whole protocol runs at high speed: every pulse arrives once, at the device
time TSCP.md's timing rules give; the noise scenario's rejected/missing counts
equal the simulator's own fault log; an unplug gives DeviceLost then
DeviceRestored and the pulses fired during the outage show as a jump in the
cumulative count, never as a pulse counted twice.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devices import events as ev
from devices.serial_adapter import SerialAdapter
from devices.sim.faultlog import expected_counts, read_fault_log
from devices.sim.process import SimulatorProcess

pytestmark = pytest.mark.slow


def read_run(adapter: SerialAdapter, sim: SimulatorProcess, timeout: float = 90.0) -> list:
    """Every event up to and including EndOfSession."""
    got: list = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in adapter.events(idle_timeout=0.5):
            got.append(event)
            if isinstance(event, ev.EndOfSession):
                return got
        assert sim.poll() is None or adapter.counters().received, f"simulator died: {sim.log_text()}"
    raise AssertionError(f"no EndOfSession within {timeout} s; last events {got[-3:]}")


def read_until_gone(adapter: SerialAdapter, sim: SimulatorProcess, got: list) -> None:
    """After EOS: read on until the simulator exited and its pty hung up (every byte is in)."""
    sim.wait(timeout=60)
    deadline = time.monotonic() + 60
    while not any(isinstance(e, ev.DeviceLost) for e in got):
        assert time.monotonic() < deadline, "the adapter never saw the simulator go"
        got += adapter.events(idle_timeout=0.5)


def expected_offsets(pulses_per_train: int, trains: int, freq_hz: float, iti_s: float,
                     burst: int) -> list[int]:
    """Device ms of every pulse from the first, by TSCP.md "Timing of a run"."""
    period_ms = round(pulses_per_train / freq_hz * 1000 / burst + iti_s * 1000) if burst > 1 else round(
        pulses_per_train / freq_hz * 1000 + iti_s * 1000)
    out = []
    for train in range(trains):
        for i in range(pulses_per_train):
            if burst > 1:
                b, k = divmod(i, burst)
                out.append(train * period_ms + round(b * 1000 / freq_hz) + k * 20)
            else:
                out.append(train * period_ms + round(i * 1000 / freq_hz))
    return out


@pytest.mark.parametrize(
    ("protocol", "pulses", "trains", "shape"),
    [("10hz", 3000, 75, (40, 75, 10.0, 26.0, 1)), ("itbs", 600, 20, (30, 20, 5.0, 8.0, 3))],
)
def test_a_whole_run_arrives_pulse_by_pulse(protocol: str, pulses: int, trains: int, shape: tuple) -> None:
    # no --exit-after-eos: the device stays, so nothing depends on its last bytes beating its exit
    with SimulatorProcess(protocol, speed=1000, seed=3, autostart=True) as sim:
        adapter = SerialAdapter(sim.port, silence_timeout=30.0)
        try:
            adapter.open()
            got = read_run(adapter, sim)
            counters = adapter.counters()
        finally:
            adapter.close()
    assert adapter.identity is not None and adapter.identity.proto == "TSCP/1"
    pulse_events = [e for e in got if isinstance(e, ev.Pulse)]
    assert [p.count for p in pulse_events] == list(range(1, pulses + 1))
    ends = [e for e in got if isinstance(e, ev.Train) and e.phase == "END"]
    assert [e.train for e in ends] == list(range(1, trains + 1))
    assert all(e.pulses == shape[0] for e in ends)
    t0 = pulse_events[0].device_t
    assert [p.device_t - t0 for p in pulse_events] == expected_offsets(*shape)
    eos = got[-1]
    assert (eos.pulses, eos.reason) == (pulses, "COMPLETE")
    assert (counters.rejected, counters.missing) == (0, 0)
    assert not any(isinstance(e, ev.DeviceLost) for e in got)


def test_noise_counts_match_the_simulators_fault_log(tmp_path: Path) -> None:
    fault_log = tmp_path / "faults.jsonl"
    with SimulatorProcess("itbs", speed=100, seed=11, autostart=True, exit_after_eos=True,
                          scenarios=["noise"], pose_hz=100, fault_log=fault_log) as sim:
        adapter = SerialAdapter(sim.port, silence_timeout=30.0)
        try:
            adapter.open()
            got = read_run(adapter, sim)
            read_until_gone(adapter, sim, got)
            counters = adapter.counters()
        finally:
            adapter.close()
    rejected, missing = expected_counts(read_fault_log(fault_log))
    assert rejected > 0 and missing > 0  # the scenario did inject noise
    assert (counters.rejected, counters.missing) == (rejected, missing)
    counts = [e.count for e in got if isinstance(e, ev.Pulse)]
    assert counts == sorted(set(counts))  # a corrupted pulse is missing, never a wrong value


def test_unplug_loses_the_outage_and_counts_no_pulse_twice(tmp_path: Path) -> None:
    link, fault_log = tmp_path / "ttyTMS", tmp_path / "faults.jsonl"
    # 10 Hz: its 50 % mark falls inside a train, so the 3 s outage swallows pulses
    with SimulatorProcess("10hz", speed=500, seed=5, autostart=True,
                          scenarios=["unplug"], link=link, fault_log=fault_log) as sim:
        assert Path(sim.port) == link
        adapter = SerialAdapter(sim.port)
        try:
            adapter.open()
            got = read_run(adapter, sim)
            counters = adapter.counters()
        finally:
            adapter.close()
    unplug = next(r for r in read_fault_log(fault_log) if r["kind"] == "unplug")
    assert unplug["pulses_lost"] > 0

    kinds = [type(e) for e in got]
    assert kinds.count(ev.DeviceLost) == 1 and kinds.count(ev.DeviceRestored) == 1
    lost_at, back_at = kinds.index(ev.DeviceLost), kinds.index(ev.DeviceRestored)
    assert lost_at < back_at
    assert ev.Hello in kinds[back_at:]  # the device introduced itself again

    counts = [e.count for e in got if isinstance(e, ev.Pulse)]
    assert len(counts) == len(set(counts)) and counts == sorted(counts)  # none twice
    outage = set(range(unplug["first_lost_count"], unplug["last_lost_count"] + 1))
    assert set(counts) == set(range(1, 3001)) - outage
    before = [e.count for e in got[:lost_at] if isinstance(e, ev.Pulse)]
    after = [e.count for e in got[back_at:] if isinstance(e, ev.Pulse)]
    assert before[-1] == unplug["first_lost_count"] - 1
    assert after[0] == unplug["last_lost_count"] + 1  # the cumulative count jumps
    assert counters.missing == 0  # the HELLO of the new connection started a new sequence
