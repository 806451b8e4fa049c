"""One crash round: record from the simulator, ``kill -9`` the recorder, then check the record.

What was fired when comes from the simulator, not from the recorder under
test: the simulator's device clock stands still while no host is attached,
so when the check attaches its own adapter after the kill, the first device
time it sees is where the device stopped, within the simulator's poll
interval (MAX_WAIT_S) after the kill. Pulse times follow TSCP.md's timing
exactly, so one pulse (seen after the kill, or stored) anchors them all.
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
from devices import events as ev
from devices.registry import create_adapter
from devices.sim.process import SimulatorProcess
from devices.sim.server import MAX_WAIT_S

from .capture import pulse_times_ms
from .clinic_setup import clinic, record_process

MARGIN_S = 0.5
"""Pulses fired more than this long before the kill must be stored."""


@dataclass
class CrashResult:
    kill_after_s: float
    session_id: int | None = None
    status: str | None = None
    stored: int = 0
    required: int = 0
    integrity: str = ""
    problems: list[str] = field(default_factory=list)


def _after_kill(url: str, speed: float) -> tuple[int | None, tuple[int, int] | None, str | None, bool]:
    """Attach to the device: (device time it resumed at, first (count, t) pulse, state, EOS seen)."""
    adapter = create_adapter(url)
    adapter.open()
    resumed = pulse = state = None
    eos = False
    deadline = time.monotonic() + 10.0
    try:
        while time.monotonic() < deadline and pulse is None and not eos:
            for e in adapter.events(idle_timeout=0.05):
                if e.device_t is not None and resumed is None:
                    resumed = e.device_t
                if isinstance(e, ev.Status):
                    state = e.state
                elif isinstance(e, ev.Pulse):
                    pulse = (e.count, e.device_t)
                    break
                elif isinstance(e, ev.EndOfSession):
                    eos = True
                    break
                # a train period (10 s of device time) without a pulse: the run is not going on
                if resumed is not None and e.device_t is not None and e.device_t - resumed > 15_000:
                    return resumed, None, state, eos
    finally:
        adapter.close()
    return resumed, pulse, state, eos


def crash_round(tmp: Path, seed: int, kill_after_s: float, *, protocol: str = "itbs",
                speed: float = 100.0, from_session: bool = False) -> CrashResult:
    """Kill ``kill_after_s`` after the command was launched, or after it printed SESSION."""
    result = CrashResult(kill_after_s)
    db_path = tmp / f"crash-{seed}.db"
    clinic(db_path, protocol)
    spec = preset(protocol)
    schedule = {c: t for t, c, _ in pulse_times_ms(spec)}
    with SimulatorProcess(protocol, speed=speed, seed=seed) as sim:
        proc = record_process(db_path, sim.url)
        first = proc.stdout.readline() if from_session and proc.stdout else ""
        time.sleep(kill_after_s)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        out = first + (proc.stdout.read() if proc.stdout else "")
        proc.stdout and proc.stdout.close()
        proc.stderr and proc.stderr.close()
        resumed, pulse, state, _ = _after_kill(sim.url, speed)
    if out.startswith("SESSION "):
        result.session_id = int(out.split()[1])

    db = open_database(db_path)  # refuses a file that fails quick_check
    try:
        result.integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        if result.integrity != "ok":
            result.problems.append(f"integrity_check: {result.integrity}")
        mark_interrupted_sessions(db, db_path)
        sessions = list(db.query("SELECT * FROM sessions"))
        rows = list(db.query("SELECT session_id, count, device_t_ms FROM pulses ORDER BY count"))
    finally:
        db.close()
    if len(sessions) > 1:
        result.problems.append(f"{len(sessions)} sessions for one record command")
    counts = [r["count"] for r in rows]
    result.stored = len(counts)
    if len(set(counts)) != len(counts):
        result.problems.append("a pulse is stored twice")
    if sessions:
        s = sessions[0]
        result.status = s["status"]
        if s["status"] not in ("interrupted", "completed"):
            result.problems.append(f"status after recovery is {s['status']}")
        if s["status"] == "completed" and result.stored != spec.planned_pulses:
            result.problems.append(f"completed with {result.stored} pulses stored")
        if s["pulses_recorded"] != result.stored:
            result.problems.append(f"pulses_recorded {s['pulses_recorded']} != {result.stored} rows")
    elif rows:
        result.problems.append("pulse rows without a session")

    # anchor the protocol's timing: device time of pulse 1
    anchor = None
    if pulse is not None:
        anchor = pulse[1] - schedule[pulse[0]]
    elif rows:
        anchor = rows[0]["device_t_ms"] - schedule[rows[0]["count"]]
    for r in rows:
        if anchor is not None and abs(r["device_t_ms"] - (anchor + schedule[r["count"]])) > 1:
            result.problems.append(f"pulse {r['count']} stored with device time {r['device_t_ms']}, "
                                   f"fired at {anchor + schedule[r['count']]}")
            break
    if resumed is None:
        result.problems.append("the device did not answer after the kill")
        return result
    threshold = resumed - (MARGIN_S + MAX_WAIT_S) * speed * 1000
    if anchor is None:
        # nothing stored and no pulse after the kill: the run must not have happened unseen
        if resumed > spec.run_s * 1000:
            result.problems.append(f"no pulse stored or seen, device at {resumed} ms ({state})")
        return result
    required = [c for c, t in schedule.items() if anchor + t <= threshold]
    result.required = len(required)
    missing = sorted(set(required) - set(counts))
    if missing:
        result.problems.append(
            f"{len(missing)} pulses fired over {MARGIN_S} s before the kill are not stored "
            f"(first {missing[:5]}; stored {result.stored}, kill after {kill_after_s:.2f} s)"
        )
    return result
