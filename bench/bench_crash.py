"""kill -9 of the record command, many more rounds than the test suite runs.

Each round: a fresh database and simulator (iTBS at speed 100, a 1.9 s run),
the record command killed at a random moment (a quarter during its start-up,
the rest from its SESSION line to just after the run), four rounds at a time
(WORKERS=N), then the checks of tests/engine/crash.py: integrity_check ok, the
session interrupted after recovery (or completed), every pulse fired more
than 0.5 s before the kill stored, none twice.

Run: ``python -m bench crash`` (ROUNDS=N to change the number, default 100).

``python -m bench crash --real-pace``: the same at a real device's pace
(bench/crash_pace.py): the simulator at speed 1 with 60 Hz pose and 10 Hz
pulses, no idle gap, no commands, no end-of-session; each kill comes 1 to 15 s
after SESSION, and the recovered session must also carry its true duration and
frame counts (ROUNDS default 12).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.engine.crash import crash_round  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "100"))
PACE_ROUNDS = int(os.environ.get("ROUNDS", "12"))
SPEED = 100.0
WORKERS = int(os.environ.get("WORKERS", "4"))


def main(options: list[str] | None = None) -> dict:
    if options and "--real-pace" in options:
        return real_pace()
    rng = random.Random(int(time.time()))
    # a quarter during start-up (from the launch), the rest during the run (from SESSION)
    plan = [(rng.uniform(0.05, 1.0), False) if i % 4 == 0 else (rng.uniform(0.0, 2.3), True)
            for i in range(ROUNDS)]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as d, ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(
            lambda i: crash_round(Path(d), 1000 + i, plan[i][0], speed=SPEED, from_session=plan[i][1]),
            range(ROUNDS)))
    failed = [(i, r) for i, r in enumerate(results) if r.problems]
    for i, r in failed:
        print(f"round {i}: kill after {r.kill_after_s:.2f} s: " + "; ".join(r.problems))
    by_status: dict[str, int] = {}
    for r in results:
        key = r.status or "no session yet"
        by_status[key] = by_status.get(key, 0) + 1
    stored = sum(r.stored for r in results)
    required = sum(r.required for r in results)
    print(f"crash: {ROUNDS} kill -9 rounds in {time.perf_counter() - started:.0f} s, {len(failed)} failed; "
          f"sessions after recovery: {by_status}; {required} pulses required, {stored} stored in all")
    return {"rounds": ROUNDS, "failed": len(failed), "by_status": by_status,
            "pulses_required": required, "pulses_stored": stored, "ok": not failed}


if __name__ == "__main__":
    print(main())


def real_pace() -> dict:
    """kill -9 rounds at speed 1 (see the module docstring)."""
    from bench.crash_pace import GOAL_GAP_MS, STALE_S, pace_round, stream_gaps

    device_gap, host_gap = stream_gaps(1999)
    print(f"crash --real-pace: the stream's longest gap between events: {device_gap} ms of device time "
          f"({host_gap:.1f} ms as this host received it; goal: no gap over {GOAL_GAP_MS} ms)")
    rng = random.Random(int(time.time()))
    plan = [rng.uniform(1.0, 15.0) for _ in range(PACE_ROUNDS)]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-crash-pace-") as d, ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda i: pace_round(Path(d), 2000 + i, plan[i]), range(PACE_ROUNDS)))
    failed = [(i, r) for i, r in enumerate(results) if r.problems]
    for i, r in enumerate(results):
        print(f"round {i}: kill {r.kill_after_s:.2f} s after SESSION: {r.status}, {r.stored} pulses stored "
              f"({r.required} required), duration {r.recovered_s} s of {r.true_s:.2f} s, frames "
              f"{r.frames_received} received / {r.frames_rejected} rejected / {r.frames_missing} missing"
              + ("; " + "; ".join(r.problems) if r.problems else ""))
    lags = [r.true_s - (r.recovered_s or 0.0) for r in results if r.session_id is not None]
    worst = max(lags) if lags else None
    print(f"crash --real-pace: {PACE_ROUNDS} kill -9 rounds in {time.perf_counter() - started:.0f} s, "
          f"{len(failed)} failed; {sum(r.required for r in results)} pulses required, "
          f"{sum(r.stored for r in results)} stored; recovered durations at most "
          f"{worst if worst is None else round(worst, 2)} s short of the true ones (goal < {STALE_S} s)")
    return {"mode": "real-pace", "rounds": PACE_ROUNDS, "failed": len(failed),
            "stream_gap_device_ms": device_gap, "stream_gap_host_ms": round(host_gap, 1),
            "pulses_required": sum(r.required for r in results),
            "pulses_stored": sum(r.stored for r in results),
            "worst_duration_short_s": None if worst is None else round(worst, 2),
            "frames_received": [r.frames_received for r in results],
            "ok": not failed and device_gap <= GOAL_GAP_MS}
