"""The simulated device without a port: run timing, determinism, commands, encoding, noise accounting.

These pin the rules the pty tests rely on, fast enough to cover every preset
and every command in every state.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from devices.sim.config import SimConfig
from devices.sim.faultlog import FaultLog, expected_counts, read_fault_log
from devices.sim.link import FrameLink, Noise, encode
from devices.sim.model import SimDevice
from devices.sim.plan import RunPlan, load_presets
from devices.sim.settings import load_settings
from devices.sim.thermal import CoilThermal
from devices.tscp import Receiver, encode_frame

SETTINGS = load_settings()
PRESETS = load_presets()


def device(protocol: str | None = "itbs", **kw: object) -> SimDevice:
    spec = PRESETS[protocol] if protocol else None
    return SimDevice(SimConfig(protocol=spec, **kw), SETTINGS)  # type: ignore[arg-type]


def run_to(dev: SimDevice, t: int, step: int = 1000) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    while dev.now < t:
        out += dev.advance(min(dev.now + step, t))
    return out


def times(outs: list[tuple[str, str]], type_: str) -> list[int]:
    return [int(p.split(",")[0]) for ty, p in outs if ty == type_]


# --- timing of a run (TSCP.md) ------------------------------------------------------
def test_10hz_trains_every_30_s_pulses_every_100_ms_run_lasts_2224_s() -> None:
    plan = RunPlan(PRESETS["10hz"])
    assert plan.train_starts_ms == tuple(range(0, 75 * 30_000, 30_000))
    assert plan.pulse_offsets_ms == tuple(range(0, 4000, 100))
    assert plan.length_ms == 2_224_000 and plan.total_pulses == 3000
    assert plan.train_starts_ms[-1] == 2_220_000


def test_itbs_bursts_of_three_20_ms_apart_at_5_hz_trains_every_10_s() -> None:
    plan = RunPlan(PRESETS["itbs"])
    assert plan.pulse_offsets_ms == tuple(b * 200 + k * 20 for b in range(10) for k in range(3))
    assert plan.train_starts_ms == tuple(range(0, 200_000, 10_000))
    assert plan.length_ms == 192_000 and plan.total_pulses == 600


def test_dash_and_1hz_follow_the_same_rule() -> None:
    dash = RunPlan(PRESETS["dash"])
    assert dash.train_starts_ms[1] == 15_000 and dash.length_ms == 74 * 15_000 + 4000
    one = RunPlan(PRESETS["1hz"])  # no ITI: trains back to back, a pulse every second throughout
    assert one.pulse_times_ms() == list(range(0, 900_000, 1000))


@pytest.mark.parametrize("change", [
    {"burst": 2}, {"freq_hz": 0.0}, {"freq_hz": 30.0}, {"pulses_per_train": 31}, {"trains": 0},
    {"iti_s": -1.0}, {"name": "a,b"},
])
def test_unrunnable_protocols_are_named(change: dict) -> None:
    spec = PRESETS["itbs"]._replace(**change)
    assert spec.problem()


def test_every_shipped_preset_is_runnable() -> None:
    assert set(PRESETS) >= {"10hz", "dash", "itbs", "1hz", "accel-itbs"}
    assert all(spec.problem() is None for spec in PRESETS.values())


# --- the device as a function of time ----------------------------------------------
def test_frames_do_not_depend_on_how_time_is_sliced() -> None:
    a, b = device(autostart=True, seed=9, pose_hz=60), device(autostart=True, seed=9, pose_hz=60)
    assert run_to(a, 30_000, step=7) == run_to(b, 30_000, step=4999)


def test_the_seed_changes_the_jitter_not_the_timing() -> None:
    a, b = run_to(device(autostart=True, seed=1), 20_000), run_to(device(autostart=True, seed=2), 20_000)
    assert times(a, "PULSE") == times(b, "PULSE") and times(a, "POSE") == times(b, "POSE")
    assert [p for ty, p in a if ty == "POSE"] != [p for ty, p in b if ty == "POSE"]


def test_autostart_runs_the_plan_from_one_second_stat_every_second_poses_at_their_rate() -> None:
    outs = run_to(device(autostart=True, pose_hz=30), 200_000)
    plan = RunPlan(PRESETS["itbs"])
    assert times(outs, "PULSE") == [1000 + t for t in plan.pulse_times_ms()]
    assert times(outs, "STAT") == list(range(0, 200_001, 1000))
    assert times(outs, "POSE") == [k * 1000 // 30 for k in range(200_000 * 30 // 1000 + 1)]
    eos = [p for ty, p in outs if ty == "EOS"]
    assert eos == ["193000,600,COMPLETE"]


def test_pose_jitter_is_modest_and_centred_on_the_target() -> None:
    outs = run_to(device(seed=3, pose_hz=250), 60_000)
    xyz = np.array([[float(v) for v in p.split(",")[1:4]] for ty, p in outs if ty == "POSE"])
    tg = SETTINGS.target
    dev = xyz - np.array([tg.x, tg.y, tg.z])
    assert len(xyz) > 10_000
    assert np.all(np.abs(dev) <= 0.3 + 0.005)  # clipped at 3 sigma (plus the 0.01 mm rounding)
    assert np.allclose(dev.std(axis=0), 0.1, atol=0.01)
    assert np.allclose(dev.mean(axis=0), 0.0, atol=0.01)


def test_the_coil_warms_with_pulses_and_cools_at_rest() -> None:
    outs = run_to(device(autostart=True, mso=80), 400_000)
    temps = {int(p.split(",")[0]): float(p.split(",")[3]) for ty, p in outs if ty == "STAT"}
    assert temps[0] < temps[193_000]  # warmer at the end of the run
    assert temps[400_000] < temps[193_000]  # cooler after a rest
    assert max(temps.values()) < SETTINGS.thermal.fault_above_c  # no fault without the scenario


def test_cooling_time_is_exact() -> None:
    th = CoilThermal(SETTINGS.thermal)
    for _ in range(60):
        th.pulse(1000, 100)
    th.boost_c = 1.0
    for _ in range(20):
        th.pulse(2000, 100)
    assert th.overheated(2000)
    t = th.cooled_at(2000)
    assert th.temp(t) < SETTINGS.thermal.clear_below_c <= th.temp(t - 1)


# --- commands ----------------------------------------------------------------------------
def test_commands_follow_the_state_machine() -> None:
    dev = device(None)
    run_to(dev, 500)
    h = dev.handle
    assert h("START", ()) == [("NAK", "START,BAD_STATE")]  # nothing loaded
    assert h("LOAD", ("bad", 10.0, 40, 75, 26.0, 2)) == [("NAK", "LOAD,BAD_VALUE")]
    loaded = [("ACK", "LOAD"), ("PROTO", "500,10 Hz,10,40,75,26,1")]
    assert h("LOAD", ("10 Hz", 10.0, 40, 75, 26.0, 1)) == loaded
    assert h("SET", (150,)) == [("NAK", "SET,BAD_VALUE")]
    assert h("SET", (70,)) == [("ACK", "SET"), ("INT", "500,70")]
    assert h("PAUSE", ()) == [("NAK", "PAUSE,BAD_STATE")]
    assert h("START", ()) == [("ACK", "START")]
    assert h("LOAD", ("x", 1.0, 1, 1, 0.0, 1)) == [("NAK", "LOAD,BAD_STATE")]
    outs = run_to(dev, 2000)
    assert next(p for ty, p in outs if ty == "PULSE").split(",")[1:3] == ["1", "70"]
    assert h("PAUSE", ()) == [("ACK", "PAUSE")]
    paused = run_to(dev, 10_000)
    assert not times(paused, "PULSE") and times(paused, "POSE")  # poses flow during a pause
    assert "PAUSED" in [p.split(",")[1] for ty, p in paused if ty == "STAT"]
    assert h("RESUME", ()) == [("ACK", "RESUME")]
    assert times(run_to(dev, 11_000), "PULSE")
    stop = h("STOP", ())
    assert stop[0] == ("ACK", "STOP") and stop[1][0] == "TRAIN" and stop[2][0] == "EOS"
    assert stop[2][1].endswith(",STOPPED")
    assert h("START", ()) == [("NAK", "START,BAD_STATE")]  # a finished run must be loaded again
    assert h("PING", ()) == [("PONG", "11000")]
    assert h("ID?", ())[0][0] == "HELLO"


def test_a_recording_only_device_refuses_every_command_but_id_and_ping() -> None:
    dev = device(no_commands=True)
    for cmd, args in (("LOAD", ("x", 1.0, 1, 1, 0.0, 1)), ("SET", (50,)), ("START", ()), ("STOP", ())):
        assert dev.handle(cmd, args) == [("NAK", f"{cmd},UNSUPPORTED")]
    assert dev.handle("PING", ())[0][0] == "PONG"
    assert times(run_to(dev, 2000), "PULSE")  # it starts on its own


# --- link: encoding and noise ---------------------------------------------------------
def test_fast_encoding_gives_the_codecs_bytes() -> None:
    dev = device(autostart=True, scenarios=("tracker-loss",))
    outs = dev.connection_opened() + run_to(dev, 60_000) + dev.handle("PING", ()) + dev.handle("SET", (50,))
    kinds = {"HELLO", "PROTO", "INT", "STAT", "POSE", "TRAIN", "PULSE", "PONG", "ACK"}
    assert {ty for ty, _ in outs} >= kinds
    for seq, (ty, payload) in enumerate(outs):
        assert encode(seq, ty, payload) == encode_frame(seq, ty, payload.split(","))


def test_noise_is_counted_exactly_as_a_receiver_counts_it(tmp_path: Path) -> None:
    log_path = tmp_path / "faults.jsonl"
    fault_log = FaultLog(log_path)
    dev = device(autostart=True, scenarios=("noise",), seed=5, pose_hz=100)
    link = FrameLink(fault_log, Noise(SETTINGS, 5))
    rx = Receiver()
    for _connection in range(2):  # a corruption at the end of a connection is never "missing"
        link.connection_opened()
        rx.reset_sequence()
        rx.feed(link.encode(dev.connection_opened(), scheduled=False))
        for _ in range(40):
            rx.feed(link.encode(dev.advance(dev.now + 1000)))
            rx.feed(link.encode(dev.handle("ID?", ()), scheduled=False))  # HELLO mid-stream
        link.connection_closed()
    fault_log.close()
    records = read_fault_log(log_path)
    assert {r["kind"] for r in records} == {"garbage", "garbage_prefix", "corrupt_crc", "truncated"}
    assert 0.005 < len(records) / rx.received < 0.02  # about 1 % of frames
    assert (rx.rejected, rx.missing) == expected_counts(records)


def test_the_drift_scenario_moves_the_coil_6_mm_and_5_degrees() -> None:
    dev = device(autostart=True, scenarios=("drift",), pose_hz=10)
    outs = run_to(dev, 200_000)
    start = 1000 + round(0.40 * 192_000)
    back = 1000 + round(0.55 * 192_000)
    tg = SETTINGS.target
    q0 = np.array([tg.qw, tg.qx, tg.qy, tg.qz])
    for ty, p in outs:
        if ty != "POSE":
            continue
        v = [float(x) for x in p.split(",")]
        dist = math.dist(v[1:4], (tg.x, tg.y, tg.z))
        q = np.array(v[4:8]) / np.linalg.norm(v[4:8])  # 4 decimals: normalise before comparing
        angle = math.degrees(2 * math.acos(min(1.0, abs(float(np.dot(q, q0))))))
        if v[0] < start or v[0] >= back + 1000:
            assert dist < 0.6 and angle < 0.6
        elif start + 20_000 <= v[0] < back:
            assert abs(dist - 6.0) < 0.6 and abs(angle - 5.0) < 0.6
