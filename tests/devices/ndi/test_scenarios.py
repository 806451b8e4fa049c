"""Each simulator scenario through the real adapter: what the camera cannot see is a pose with no
values (never a guess), drift moves the coil off target as scheduled, jitter widens the spread, and
latency spikes and line garbage are survived and counted."""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

from devices import events as ev
from devices.adapter import LinkCounters
from devices.ndi.adapter import from_url
from devices.ndi.sim.process import NdiProcess
from devices.sim.settings import load_settings

from .support import collect, fault_log, of, poses, rom_query, until_device_ms


def run(tmp_path: Path, *args: str, until_ms: int, query: str = ""
        ) -> tuple[list[ev.DeviceEvent], LinkCounters]:
    with NdiProcess(*args) as sim:
        adapter = from_url(sim.url(rom_query(tmp_path, query)))
        with adapter:
            events = collect(adapter, until_device_ms(until_ms), timeout=60)
        return events, adapter.counters()


def in_window(pose: ev.Pose, start_s: float, end_s: float, period_s: float = 20.0) -> bool:
    phase = (pose.device_t / 1000.0) % period_s
    return start_s <= phase < end_s


def test_coil_out_of_view_and_reference_lost_give_poses_without_values(tmp_path: Path) -> None:
    events, _ = run(tmp_path, "--speed", "5", "--scenario", "out-of-view", "--scenario", "reference-lost",
                    until_ms=10_000)
    ps = poses(events)
    hidden = [(4, 5), (6, 7.5), (8, 9)]
    for p in ps:
        expected_hidden = any(in_window(p, a, b) for a, b in hidden)
        assert p.visible != expected_hidden, p
        if not p.visible:
            assert p.quality == 0.0 and (p.x, p.qw) == (None, None)
    for a, b in hidden:
        assert any(in_window(p, a, b) for p in ps)  # each window was sampled
    assert not of(events, ev.DeviceLost)


def test_drift_moves_the_coil_off_target_as_scheduled(tmp_path: Path) -> None:
    faults = tmp_path / "faults.jsonl"
    events, _ = run(tmp_path, "--speed", "10", "--scenario", "drift", "--drift-start", "2",
                    "--drift-rate", "2", "--fault-log", str(faults), until_ms=12_000)
    target_x = load_settings().target.x
    for p in poses(events):
        assert p.x is not None
        expected = min(max(p.device_t / 1000.0 - 2.0, 0.0) * 2.0, 40.0)
        assert abs((p.x - target_x) - expected) < 0.6, p
    assert fault_log(faults)[0]["drift_mm_s"] == 2.0


def test_jitter_widens_the_spread_around_the_target(tmp_path: Path) -> None:
    calm, _ = run(tmp_path, "--speed", "10", until_ms=4_000)
    shaky, _ = run(tmp_path, "--speed", "10", "--scenario", "jitter", until_ms=4_000)
    spread = [statistics.pstdev(p.x for p in poses(e) if p.x is not None) for e in (calm, shaky)]
    assert spread[0] < 0.3 and 0.5 < spread[1] < 2.0


def test_latency_spikes_delay_poses_without_losing_the_tracker(tmp_path: Path) -> None:
    faults = tmp_path / "faults.jsonl"
    events, _ = run(tmp_path, "--speed", "5", "--scenario", "latency", "--fault-log", str(faults),
                    until_ms=10_000)
    ps = poses(events)
    gaps = [b.host_t - a.host_t for a, b in itertools.pairwise(ps)]
    assert max(gaps) >= 0.14 and not of(events, ev.DeviceLost)
    assert len([r for r in fault_log(faults) if r["kind"] == "latency"]) >= 2


def test_garbage_on_the_line_is_counted_and_never_a_pose(tmp_path: Path) -> None:
    faults = tmp_path / "faults.jsonl"
    events, counters = run(tmp_path, "--speed", "5", "--scenario", "garbage", "--fault-log", str(faults),
                           until_ms=12_000)
    injected = [r for r in fault_log(faults) if r["kind"] in ("garbage", "bad_crc")]
    assert len(injected) >= 4
    assert counters.rejected >= len(injected) - 2  # a junk run right before a bad reply merges with it
    assert counters.rejected <= len(injected)
    assert not of(events, ev.DeviceLost)
    target = load_settings().target
    assert all(p.x is not None and abs(p.x - target.x) < 1.0 for p in poses(events))
