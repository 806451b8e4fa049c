"""One kill -9 round at a real device's pace (issue 13): what ``python -m bench crash --real-pace`` runs.

The simulator streams at speed 1 as a recording-only clinical stimulator does:
60 Hz pose and 10 Hz pulses with no gap over 20 ms, commands refused, no
end-of-session. ``main.py record`` is killed with SIGKILL a random time after it
printed SESSION; then the record is checked as tests/engine/crash.py checks it
(integrity, one session, no pulse twice, every pulse fired more than 0.5 s
before the kill stored), and also what the recovered session row says:

- its duration is the true one: at most :data:`STALE_S` short of the time from
  SESSION to the kill (the heartbeat is never more than 2 s old);
- its frame counts were kept: the link's received frames at least
  :data:`FRAME_SHARE` of the 60 Hz pose stream over that duration, minus the
  same staleness.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from console.clinic.protocols import preset
from db.database import open_database
from db.recovery import mark_interrupted_sessions
from devices.registry import create_adapter
from devices.sim.process import SimulatorProcess
from devices.sim.server import MAX_WAIT_S
from tests.engine.capture import pulse_times_ms
from tests.engine.clinic_setup import clinic, record_process
from tests.engine.crash import MARGIN_S, _after_kill

PROTOCOL = "dash"  # 4 s trains, 11 s apart: a kill in the first 15 s meets trains and pauses
POSE_HZ = 60
STALE_S = 2.0
FRAME_SHARE = 0.8
GOAL_GAP_MS = 20


def stream_gaps(seed: int, seconds: float = 5.0) -> tuple[int, float]:
    """The premise, measured: the longest gap between two events of the rounds' stream, in device
    ms and in host ms (the host figure includes this machine's scheduling)."""
    with SimulatorProcess(PROTOCOL, speed=1.0, seed=seed, pose_hz=POSE_HZ, no_commands=True) as sim:
        adapter = create_adapter(sim.url)
        adapter.open()
        device_gap, host_gap = 0, 0.0
        last_device: int | None = None
        last_host: float | None = None
        try:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                for e in adapter.events(idle_timeout=0.05):
                    if e.device_t is not None:
                        if last_device is not None:
                            device_gap = max(device_gap, e.device_t - last_device)
                        last_device = e.device_t
                    if last_host is not None:
                        host_gap = max(host_gap, (e.host_t - last_host) * 1000)
                    last_host = e.host_t
                    if time.monotonic() >= end:
                        break
        finally:
            adapter.close()
    return device_gap, host_gap


@dataclass
class PaceResult:
    kill_after_s: float
    session_id: int | None = None
    status: str | None = None
    stored: int = 0
    required: int = 0
    true_s: float = 0.0
    recovered_s: float | None = None
    frames_received: int = 0
    frames_rejected: int = 0
    frames_missing: int = 0
    problems: list[str] = field(default_factory=list)


def pace_round(tmp: Path, seed: int, kill_after_s: float) -> PaceResult:
    """Record at speed 1, kill -9 ``kill_after_s`` after SESSION, check the recovered record."""
    result = PaceResult(kill_after_s)
    db_path = tmp / f"pace-{seed}.db"
    clinic(db_path, PROTOCOL)
    spec = preset(PROTOCOL)
    assert spec is not None
    schedule = {c: t for t, c, _ in pulse_times_ms(spec)}
    with SimulatorProcess(PROTOCOL, speed=1.0, seed=seed, pose_hz=POSE_HZ, no_commands=True) as sim:
        proc = record_process(db_path, sim.url)
        line = proc.stdout.readline() if proc.stdout else ""
        shown_at = time.monotonic()
        time.sleep(kill_after_s)
        os.kill(proc.pid, signal.SIGKILL)
        result.true_s = time.monotonic() - shown_at
        proc.communicate()
        resumed, pulse, _state, _ = _after_kill(sim.url, 1.0)
    if not line.startswith("SESSION "):
        result.problems.append(f"record did not start: {line!r}")
        return result
    result.session_id = int(line.split()[1])

    db = open_database(db_path)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            result.problems.append(f"integrity_check: {integrity}")
        mark_interrupted_sessions(db, db_path)
        sessions = list(db.query("SELECT * FROM sessions"))
        rows = list(db.query("SELECT count, device_t_ms FROM pulses ORDER BY count"))
    finally:
        db.close()
    if len(sessions) != 1:
        result.problems.append(f"{len(sessions)} sessions for one record command")
        return result
    s = sessions[0]
    result.status, result.recovered_s = s["status"], s["duration_s"]
    result.frames_received = s["frames_received"] or 0
    result.frames_rejected, result.frames_missing = s["frames_rejected"] or 0, s["frames_missing"] or 0
    counts = [r["count"] for r in rows]
    result.stored = len(counts)
    if s["status"] != "interrupted":
        result.problems.append(f"status after recovery is {s['status']}")
    if len(set(counts)) != len(counts):
        result.problems.append("a pulse is stored twice")
    if s["pulses_recorded"] != result.stored:
        result.problems.append(f"pulses_recorded {s['pulses_recorded']} != {result.stored} rows")
    recovered = result.recovered_s or 0.0
    if recovered < result.true_s - STALE_S:
        result.problems.append(f"recovered duration {recovered:.1f} s, true {result.true_s:.1f} s")
    expected_frames = FRAME_SHARE * POSE_HZ * max(0.0, result.true_s - STALE_S - 1.0)
    if result.frames_received < expected_frames:
        result.problems.append(f"{result.frames_received} frames received kept, expected at least "
                               f"{expected_frames:.0f} over {result.true_s:.1f} s")

    # Which pulses must be stored: the device's time when the check attached, less the margin.
    anchor = None
    if pulse is not None:
        anchor = pulse[1] - schedule[pulse[0]]
    elif rows:
        anchor = rows[0]["device_t_ms"] - schedule[rows[0]["count"]]
    if resumed is None:
        result.problems.append("the device did not answer after the kill")
        return result
    if anchor is None:
        return result  # no pulse stored and none seen: the run had not begun
    threshold = resumed - (MARGIN_S + MAX_WAIT_S) * 1000
    required = [c for c, t in schedule.items() if anchor + t <= threshold]
    result.required = len(required)
    missing = sorted(set(required) - set(counts))
    if missing:
        result.problems.append(f"{len(missing)} pulses fired over {MARGIN_S} s before the kill are not "
                               f"stored (first {missing[:5]}; stored {result.stored})")
    return result
