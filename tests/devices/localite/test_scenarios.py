"""The simulator's scenarios recorded through the adapter: a coil out of view and a reference lost
give no pose (never a guessed one), drift moves the coil off target by the share the simulator
says, jitter spreads it, latency spikes delay poses without losing one, garbage is counted exactly
and never becomes a value."""

from __future__ import annotations

import itertools
import statistics
import time
from pathlib import Path

import pytest

from devices import events as ev
from devices.localite.adapter import from_url
from devices.localite.sim.navigator import DRIFT_AT_S, DRIFT_MM_PER_S
from devices.localite.sim.process import NavigatorProcess

from ..magventure.support import collect, drain, fault_log, of
from .support import collect_for, distance_to_target, poses, traced_positions

ON_TARGET_MM = 3.0


def record(tmp_path: Path, seconds: float, *args: str) -> tuple[list[ev.DeviceEvent], Path, Path, object]:
    trace, log = tmp_path / "trace.jsonl", tmp_path / "faults.jsonl"
    with NavigatorProcess(*args, "--trace", trace, "--fault-log", log) as sim:
        adapter = from_url(f"{sim.url}?poll_hz=20")
        adapter.open()
        try:
            events = collect_for(adapter, seconds)
        finally:
            adapter.close()
        events += drain(adapter)
    return events, trace, log, adapter


def test_out_of_view_and_reference_lost_give_no_pose_then_poses_again(tmp_path: Path) -> None:
    # speed 4: out of view from 0.75 s to 1.25 s, reference lost from 1.75 s to 2.25 s
    events, trace, _log, _adapter = record(tmp_path, 3.2, "--speed", "4", "--scenario", "out-of-view",
                                           "--scenario", "reference-lost")
    got = poses(events)
    seen = [p.visible for p in got]
    runs = [k for k, (a, b) in enumerate(itertools.pairwise(seen)) if a != b]
    assert seen[0] and seen[-1] and len(runs) == 4  # seen, hidden, seen, hidden, seen
    hidden = [p for p in got if not p.visible]
    assert all(p.quality == 0.0 and p.x is None and p.qw is None for p in hidden)
    # every position the simulator sent while the coil and the reference were seen is a pose, and
    # none sent while the reference was lost (Navigator still answered) became one
    sent = traced_positions(trace)
    received = [(p.x, p.y, p.z) for p in got if p.visible]
    sent_seen = [tuple(r["pose"][:3]) for r in sent if r["seen"]]
    assert received == sent_seen[:len(received)] and len(sent_seen) - len(received) <= 3
    assert any(not r["seen"] and r["pose"] for r in sent)  # answered during the reference loss
    assert not [e for e in events if isinstance(e, ev.DeviceLost)]


def test_drift_moves_the_coil_off_target_by_the_share_the_simulator_gives(tmp_path: Path) -> None:
    events, trace, _log, _adapter = record(tmp_path, 4.0, "--speed", "2", "--scenario", "drift")
    got = [p for p in poses(events) if p.visible]
    sent = [r for r in traced_positions(trace) if r["seen"]][:len(got)]
    assert len(sent) == len(got) >= 50
    expected = sum(r["offset_mm"] <= ON_TARGET_MM for r in sent) / len(sent)
    measured = sum(distance_to_target(p) <= ON_TARGET_MM for p in got) / len(got)
    assert 0.2 < expected < 0.9  # the session is partly on, partly off target
    assert abs(measured - expected) <= 0.03  # 0.1 mm of jitter moves a pose or two across 3 mm
    assert distance_to_target(got[0]) < 1.0
    assert distance_to_target(got[-1]) == pytest.approx(sent[-1]["offset_mm"], abs=0.5)
    assert sent[-1]["offset_mm"] > DRIFT_MM_PER_S * (7.0 - DRIFT_AT_S) * 0.5


def test_jitter_spreads_the_pose_by_about_a_millimetre(tmp_path: Path) -> None:
    events, _trace, _log, _adapter = record(tmp_path, 2.0, "--speed", "1", "--scenario", "jitter")
    got = [p for p in poses(events) if p.visible]
    assert len(got) >= 25
    xs = [p.x for p in got if p.x is not None]
    assert 0.5 < statistics.stdev(xs) < 1.8


def test_latency_spikes_delay_poses_but_lose_none(tmp_path: Path) -> None:
    events, trace, log, _adapter = record(tmp_path, 5.0, "--speed", "1", "--scenario", "latency")
    spikes = [r for r in fault_log(log) if r["kind"] == "latency"]
    assert spikes
    got = poses(events)
    gaps = [b.host_t - a.host_t for a, b in itertools.pairwise(got)]
    assert max(gaps) >= 0.25  # a spike held the answers back
    assert not [e for e in events if isinstance(e, ev.DeviceLost)]  # shorter than the 3 s silence
    # every answer arrived, in order (those still on the way when the adapter closed excepted)
    received = [(p.x, p.y, p.z) for p in got if p.visible]
    sent = [tuple(r["pose"][:3]) for r in traced_positions(trace)]
    assert received == sent[:len(received)] and len(sent) - len(received) <= 3


def test_garbage_is_counted_exactly_and_never_becomes_a_value(tmp_path: Path) -> None:
    log = tmp_path / "faults.jsonl"
    with NavigatorProcess("--speed", "4", "--scenario", "garbage", "--fault-log", log) as sim:
        adapter = from_url(sim.url)
        adapter.open()
        try:
            events = collect(adapter, lambda evs: len(fault_log(log)) >= 30, timeout=60)
            # the simulator logs a piece as it queues it: read on until what arrived matches
            deadline = time.monotonic() + 20
            while (adapter.counters().rejected != sum(r["rejected"] for r in fault_log(log))
                   and time.monotonic() < deadline):
                events += collect_for(adapter, 0.05)
        finally:
            adapter.close()
        events += drain(adapter)
    records = fault_log(log)
    counters = adapter.counters()
    assert counters.rejected == sum(r["rejected"] for r in records)
    assert {r["what"] for r in records} == {"noise", "stray-braces", "not-json", "range", "quaternion",
                                            "runaway", "binary"}
    assert [i.mso for i in of(events, ev.Intensity)] == [45]  # the out-of-range amplitudes: none
    assert all(p.x != 1.0 for p in poses(events))  # the non-unit quaternion's position: none
    assert not [e for e in events if isinstance(e, ev.DeviceLost)]


def test_an_unregistered_patient_gives_no_pose_at_all(tmp_path: Path) -> None:
    events, trace, _log, _adapter = record(tmp_path, 1.0, "--unregistered")
    got = poses(events)
    assert len(got) >= 5 and not any(p.visible for p in got)
    assert all(r["pose"] for r in traced_positions(trace))  # Navigator answered positions all along
