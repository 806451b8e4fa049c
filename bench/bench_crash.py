"""kill -9 of the record command, many more rounds than the test suite runs.

Each round: a fresh database and simulator (iTBS at speed 100, a 1.9 s run),
the record command killed at a random moment (a quarter during its start-up,
the rest from its SESSION line to just after the run), four rounds at a time
(WORKERS=N), then the checks of tests/engine/crash.py: integrity_check ok, the
session interrupted after recovery (or completed), every pulse fired more
than 0.5 s before the kill stored, none twice.

Run: ``python -m bench crash`` (ROUNDS=N to change the number, default 100).
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
SPEED = 100.0
WORKERS = int(os.environ.get("WORKERS", "4"))


def main() -> dict:
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
