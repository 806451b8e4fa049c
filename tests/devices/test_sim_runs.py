"""Whole simulated runs through the real pty, read with plain pyserial and the TSCP Receiver.

A run at x1000 must deliver every pulse at the device time the protocol
defines, nothing rejected or missing; the same seed must give the same bytes;
each scenario must do what it says and log it so a host can check itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import serial

from devices.sim.faultlog import expected_counts, read_fault_log
from devices.sim.plan import RunPlan, load_presets
from devices.sim.process import SimulatorProcess
from devices.sim.settings import load_settings
from tests.devices.sim_support import Host, reopen_when_back

pytestmark = pytest.mark.slow
PRESETS = load_presets()
TARGET = load_settings().target
AUTOSTART_MS = 1000


def full_run(port: str, *, greet: bool = True) -> Host:
    """Read a whole run (through EOS) from ``port``."""
    host = Host(port, greet=greet)
    host.read_until(lambda f: f.type == "EOS", timeout=120)
    host.close()
    return host


@pytest.mark.parametrize(("protocol", "pulses", "trains"), [("10hz", 3000, 75), ("itbs", 600, 20)])
def test_a_full_run_at_x1000_keeps_the_protocols_timing(protocol: str, pulses: int, trains: int) -> None:
    with SimulatorProcess(protocol, speed=1000, autostart=True, exit_after_eos=True) as sim:
        host = full_run(sim.port)
        assert sim.wait(30) == 0
    plan = RunPlan(PRESETS[protocol])
    got = [f.value for f in host.of_type("PULSE")]
    assert [p.count for p in got] == list(range(1, pulses + 1))
    assert [p.device_t for p in got] == [AUTOSTART_MS + t for t in plan.pulse_times_ms()]
    starts = [f.value for f in host.of_type("TRAIN") if f.value.phase == "START"]
    ends = [f.value for f in host.of_type("TRAIN") if f.value.phase == "END"]
    assert [s.train for s in starts] == [e.train for e in ends] == list(range(1, trains + 1))
    assert [s.device_t for s in starts] == [AUTOSTART_MS + t for t in plan.train_starts_ms]
    assert all(e.pulses == pulses // trains for e in ends)
    eos = host.of_type("EOS")[0].value
    assert (eos.pulses, eos.reason, eos.device_t) == (pulses, "COMPLETE", AUTOSTART_MS + plan.length_ms)
    assert (host.receiver.rejected, host.receiver.missing) == (0, 0)
    # poses flow through the rests: no gap between poses longer than one pose period
    pose_t = [f.value.device_t for f in host.of_type("POSE")]
    assert max(np.diff(pose_t)) <= 34
    stat_t = [f.value.device_t for f in host.of_type("STAT")]
    assert stat_t == list(range(0, stat_t[-1] + 1, 1000))
    assert all(p.mso == 62 and p.didt is not None and abs(p.didt - 62 * 2.3) < 5 for p in got)


def test_the_same_seed_gives_the_same_byte_stream() -> None:
    streams = []
    for _ in range(2):
        with SimulatorProcess("itbs", speed=1000, seed=42, autostart=True, exit_after_eos=True,
                              scenarios=["noise", "drift"]) as sim:
            streams.append(bytes(full_run(sim.port, greet=False).raw))  # no command: nothing interleaves
    eos_end = streams[0].index(b"\n", streams[0].index(b",EOS,")) + 1
    assert len(streams[0]) > 300_000
    assert streams[0][:eos_end] == streams[1][:eos_end]


def test_noise_counts_match_the_fault_log(tmp_path: Path) -> None:
    log_path = tmp_path / "faults.jsonl"
    with SimulatorProcess("itbs", speed=1000, seed=8, autostart=True, exit_after_eos=True,
                          scenarios=["noise"], fault_log=log_path) as sim:
        host = full_run(sim.port)
        assert sim.wait(30) == 0
    records = read_fault_log(log_path)
    noise = [r for r in records if r["kind"] in ("garbage", "garbage_prefix", "corrupt_crc", "truncated")]
    assert 0.005 < len(noise) / host.receiver.received < 0.02
    assert (host.receiver.rejected, host.receiver.missing) == expected_counts(records)
    assert host.receiver.rejected > 0 and host.receiver.missing > 0
    # a corrupted PULSE is missing, never a wrong value: what arrived plus what was lost is the run
    counts = [f.value.count for f in host.of_type("PULSE")]
    lost = [r for r in noise if r["type"] == "PULSE" and r["missing"]]
    assert counts == sorted(set(counts)) and len(counts) + len(lost) == 600


def angle_to_target_deg(p: object) -> float:
    q = np.array([p.qw, p.qx, p.qy, p.qz])  # type: ignore[attr-defined]
    q0 = np.array([TARGET.qw, TARGET.qx, TARGET.qy, TARGET.qz])
    return math.degrees(2 * math.acos(min(1.0, abs(float(np.dot(q / np.linalg.norm(q), q0))))))


def test_drift_and_tracker_loss_show_in_the_poses(tmp_path: Path) -> None:
    log_path = tmp_path / "faults.jsonl"
    with SimulatorProcess("itbs", speed=1000, autostart=True, exit_after_eos=True,
                          scenarios=["drift", "tracker-loss"], fault_log=log_path) as sim:
        host = full_run(sim.port)
    log = {r["kind"]: r for r in read_fault_log(log_path)}
    slip, back, loss = log["drift"]["device_t"], log["drift_back"]["device_t"], log["tracker_loss"]
    run_ms = RunPlan(PRESETS["itbs"]).length_ms
    assert slip == AUTOSTART_MS + round(0.40 * run_ms) and back == AUTOSTART_MS + round(0.55 * run_ms)
    hidden, slipped, on_target = [], [], []
    for f in host.of_type("POSE"):
        p = f.value
        if not p.visible:
            hidden.append(p)
            continue
        dist = math.dist((p.x, p.y, p.z), (TARGET.x, TARGET.y, TARGET.z))
        if slip + 20_000 <= p.device_t < back:
            slipped.append((dist, angle_to_target_deg(p)))
        elif p.device_t < slip or p.device_t >= back + 1000:
            on_target.append((dist, angle_to_target_deg(p)))
    assert slipped and all(abs(d - 6.0) < 0.6 and abs(a - 5.0) < 0.6 for d, a in slipped)
    assert all(d < 0.6 and a < 0.6 for d, a in on_target)
    # not visible for exactly 5 s: quality 0 and no position, never a guessed one
    poses_t = [f.value.device_t for f in host.of_type("POSE")]
    assert {p.device_t for p in hidden} == {t for t in poses_t if loss["device_t"] <= t < loss["end_t"]}
    assert loss["end_t"] - loss["device_t"] == 5000 and len(hidden) == 150
    assert all(p.quality == 0.0 and p.x is None and p.qw is None for p in hidden)


def test_overheat_faults_pauses_the_run_and_resumes_after_cooling(tmp_path: Path) -> None:
    log_path = tmp_path / "faults.jsonl"
    with SimulatorProcess("itbs", speed=1000, autostart=True, exit_after_eos=True,
                          scenarios=["overheat"], fault_log=log_path) as sim:
        host = full_run(sim.port)
    fault = host.of_type("FAULT")[0].value
    clear = host.of_type("CLEAR")[0].value
    assert fault.code == clear.code == "COIL_OVERTEMP" and clear.device_t > fault.device_t
    states = {f.value.device_t: f.value for f in host.of_type("STAT")}
    assert max(s.coil_temp_c for s in states.values()) > 39.5  # STAT is 1 Hz; the log has the peak
    logged = next(r for r in read_fault_log(log_path) if r["kind"] == "fault")
    assert logged["coil_temp_c"] > 40.0 and logged["device_t"] == fault.device_t
    assert {s.state for t, s in states.items() if fault.device_t < t < clear.device_t} == {"FAULT"}
    # the run clock stood still for the fault: every later pulse is shifted by its length
    plan = [AUTOSTART_MS + t for t in RunPlan(PRESETS["itbs"]).pulse_times_ms()]
    got = [f.value for f in host.of_type("PULSE")]
    shift = clear.device_t - fault.device_t
    assert [p.count for p in got] == list(range(1, 601))
    assert [p.device_t for p in got] == [t if t <= fault.device_t else t + shift for t in plan]
    assert not [p for p in got if fault.device_t < p.device_t < clear.device_t]
    assert host.of_type("EOS")[0].value.reason == "COMPLETE"
    kinds = [r["kind"] for r in read_fault_log(log_path)]
    assert kinds.index("overheat") < kinds.index("fault") < kinds.index("fault_cleared")


def test_unplug_reopens_a_new_pty_and_the_pulses_of_the_outage_are_lost(tmp_path: Path) -> None:
    link, log_path = tmp_path / "ttySIM", tmp_path / "faults.jsonl"
    # DASH: the 50 % mark falls inside a train, so the 3 s outage swallows pulses
    with SimulatorProcess("dash", speed=1000, autostart=True, exit_after_eos=True, scenarios=["unplug"],
                          link=link, fault_log=log_path) as sim:
        assert sim.port == str(link)
        first_pty = str(link.readlink())
        host = Host(sim.port)
        with pytest.raises((serial.SerialException, OSError)):  # what pyserial raises after a hang-up
            host.read_until(lambda f: f.type == "EOS", timeout=60)
        host.close()
        reopen_when_back(link, first_pty)
        second_pty = str(link.readlink())
        again = Host(sim.port)
        again.read_until(lambda f: f.type == "EOS", timeout=60)
        again.close()
        assert sim.wait(30) == 0
    assert second_pty != first_pty
    assert not link.exists()  # removed when the simulator ends
    unplug = next(r for r in read_fault_log(log_path) if r["kind"] == "unplug")
    replug = next(r for r in read_fault_log(log_path) if r["kind"] == "replug")
    assert replug["wall_s"] >= 0.5 and replug["device_t"] - unplug["device_t"] == 3000
    assert again.frames[0].type == "HELLO" and again.frames[0].seq == 0
    before = [f.value.count for f in host.of_type("PULSE")]
    after = [f.value.count for f in again.of_type("PULSE")]
    assert before == list(range(1, before[-1] + 1))
    # the pulses the plan puts in the 3 s after the unplug moment (which follows the pulse at 50 %)
    mark = unplug["device_t"] - AUTOSTART_MS
    planned = sum(1 for t in RunPlan(PRESETS["dash"]).pulse_times_ms() if mark < t < mark + 3000)
    assert planned > 0 and unplug["pulses_lost"] == planned
    assert unplug["first_lost_count"] == before[-1] + 1
    assert after[0] == before[-1] + unplug["pulses_lost"] + 1  # the cumulative count jumps
    assert after == list(range(after[0], 3001))
    assert (host.receiver.missing, again.receiver.missing, again.receiver.rejected) == (0, 0, 0)
