"""Recording at a real device's pace (issue 13): how fast Stop ends a session, how fresh the row stays.

The simulator streams at speed 1 (10 Hz pulses, 60 Hz pose, no gaps) and takes
no commands, like a recording-only clinical stimulator that never sends an
end-of-session. Goals: Stop ends the session within 1 s; the session row's
heartbeat is never more than 2 s old while recording.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

from tests.engine.test_runner_sim import runner_for

GOAL_STOP_S = 1.0
GOAL_HEARTBEAT_S = 2.0
RUNS = 3
RECORD_S = 6.0


def _heartbeat_age_s(path: Path, session_id: int) -> float:
    db = sqlite3.connect(path)
    try:
        beat = db.execute("SELECT heartbeat_at FROM sessions WHERE id = ?", [session_id]).fetchone()[0]
        return float(db.execute("SELECT (julianday('now') - julianday(?)) * 86400", [beat]).fetchone()[0])
    finally:
        db.close()


def _one_run(seed: int) -> tuple[float, float, str | None]:
    path = Path(tempfile.mkdtemp(prefix="bench-pace-")) / "clinic.db"
    runner = runner_for(path, f"sim://10hz?speed=1&commands=0&pose_hz=60&seed={seed}", "10hz")
    try:
        session_id = runner.open()
        runner.start(by="bench")
        worst = 0.0
        began = time.monotonic()
        while (now := time.monotonic()) < began + RECORD_S:
            if now > began + 2.0:  # past the start-up, where the first summary is still to come
                worst = max(worst, _heartbeat_age_s(path, session_id))
            time.sleep(0.1)
        asked = time.monotonic()
        runner.stop("bench", by="bench")
        runner.wait_until_ended(timeout=30)
        return time.monotonic() - asked, worst, runner.snapshot().end_status
    finally:
        runner.close()


def main() -> dict:
    stops, ages = [], []
    for seed in range(RUNS):
        stop_s, age_s, status = _one_run(seed)
        stops.append(stop_s)
        ages.append(age_s)
        print(f"pace: run {seed}: Stop ended the session ({status}) in {stop_s:.3f} s; "
              f"oldest heartbeat while recording {age_s:.2f} s")
    ok = max(stops) < GOAL_STOP_S and max(ages) < GOAL_HEARTBEAT_S
    print(f"pace: worst Stop {max(stops):.3f} s (goal < {GOAL_STOP_S} s), worst heartbeat age "
          f"{max(ages):.2f} s (goal < {GOAL_HEARTBEAT_S} s)")
    return {"stop_s": [round(s, 3) for s in stops], "heartbeat_age_s": [round(a, 2) for a in ages],
            "goal_stop_s": GOAL_STOP_S, "goal_heartbeat_s": GOAL_HEARTBEAT_S, "ok": ok}
