"""The database writer alone: throughput, commit latency, CPU at a real session's rate.

Goals: >= 20,000 rows/s committed (the ingest goal of the whole recording
path, so the writer must not be its bottleneck); every operation committed
within max_latency_s (100 ms) plus one fsync at a modest rate; the writer's
share of one core at a real session's rate (10 Hz pulses, 30 Hz poses,
a 1 Hz heartbeat) well under the 3 % budget of the whole recording path.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from db.database import new_uuid, open_database, utc_now
from db.writer import Writer

GOAL_ROWS_PER_S = 20_000
GOAL_CPU_SHARE = 0.03


def _setup(path: Path) -> int:
    db = open_database(path)
    pid = db["patients"].insert({"uuid": new_uuid(), "clinic_id": "B-1", "name": "Bench Patient",
                                 "initials": "BP", "created_at": utc_now()}).last_pk
    sid = db["sessions"].insert({"uuid": new_uuid(), "patient_id": pid, "started_at": utc_now(),
                                 "device_url": "sim://"}).last_pk
    db.close()
    return sid


def _pulse(sid: int, n: int) -> dict:
    return {"session_id": sid, "count": n, "device_t_ms": 100 * n, "mso": 58, "didt": 80.0, "train": 1,
            "x": -42.0, "y": 38.5, "z": 61.2, "qw": 1.0, "qx": 0.0, "qy": 0.0, "qz": 0.0,
            "distance_mm": 0.4, "angle_deg": 0.3, "on_target": 1}


def _pose(sid: int, n: int) -> dict:
    return {"session_id": sid, "idx": n, "device_t_ms": 33 * n, "x": -42.0, "y": 38.5, "z": 61.2,
            "qw": 1.0, "qx": 0.0, "qy": 0.0, "qz": 0.0, "quality": 0.98, "distance_mm": 0.4,
            "angle_deg": 0.3}


def throughput(folder: Path, n: int = 200_000) -> float:
    path = folder / "throughput.db"
    sid = _setup(path)
    writer = Writer(path)
    writer.start()
    start = time.perf_counter()
    for i in range(1, n + 1):
        writer.insert("pulses", _pulse(sid, i))
    assert writer.flush(timeout=300)
    elapsed = time.perf_counter() - start
    writer.close()
    return n / elapsed


def latency(folder: Path, seconds: float = 3.0, rate_hz: float = 1000.0) -> dict:
    """Submit at a steady rate; each probe's future completes when its batch has committed."""
    path = folder / "latency.db"
    sid = _setup(path)
    writer = Writer(path, max_latency_s=0.1)
    writer.start()
    delays: list[float] = []
    n, next_t, start = 0, time.perf_counter(), time.perf_counter()
    while time.perf_counter() - start < seconds:
        n += 1
        writer.insert("pulses", _pulse(sid, n))
        if n % 10 == 0:
            submitted = time.perf_counter()
            future = writer.call(lambda db: None)
            future.add_done_callback(lambda f, s=submitted: delays.append(time.perf_counter() - s))
        next_t += 1.0 / rate_hz
        time.sleep(max(0.0, next_t - time.perf_counter()))
    writer.flush(timeout=60)
    batches = writer.committed_batches
    writer.close()
    delays.sort()
    return {
        "latency_median_ms": round(statistics.median(delays) * 1000, 1),
        "latency_p99_ms": round(delays[int(len(delays) * 0.99) - 1] * 1000, 1),
        "latency_max_ms": round(delays[-1] * 1000, 1),
        "commits_per_s": round(batches / seconds, 1),
    }


def cpu_at_session_rate(folder: Path, seconds: float = 10.0) -> float:
    """Process CPU time while a session's worth of rows is written (10 Hz pulses, 30 Hz poses)."""
    path = folder / "cpu.db"
    sid = _setup(path)
    writer = Writer(path, max_latency_s=0.1)
    writer.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    tick, n_pose, n_pulse = 0, 0, 0
    while time.perf_counter() - wall0 < seconds:
        tick += 1
        n_pose += 1
        writer.insert("poses", _pose(sid, n_pose))
        if tick % 3 == 0:
            n_pulse += 1
            writer.insert("pulses", _pulse(sid, n_pulse))
        if tick % 30 == 0:
            writer.update("sessions", sid, {"heartbeat_at": utc_now(), "pulses_recorded": n_pulse})
        time.sleep(max(0.0, wall0 + tick / 30.0 - time.perf_counter()))
    writer.flush(timeout=60)
    share = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    writer.close()
    return share


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows_per_s = throughput(folder)
        print(f"writer: {rows_per_s:,.0f} rows/s committed (goal {GOAL_ROWS_PER_S:,})")
        lat = latency(folder)
        print(f"writer: commit latency at 1000 rows/s: median {lat['latency_median_ms']} ms, "
              f"p99 {lat['latency_p99_ms']} ms, max {lat['latency_max_ms']} ms, "
              f"{lat['commits_per_s']} commits/s")
        cpu = cpu_at_session_rate(folder)
        print(f"writer: {cpu:.2%} of one core at a session's rate (10 Hz pulses, 30 Hz poses)")
    return {
        "rows_per_s": round(rows_per_s), **lat, "cpu_share_session_rate": round(cpu, 4),
        "ok": rows_per_s >= GOAL_ROWS_PER_S and cpu < GOAL_CPU_SHARE,
    }


if __name__ == "__main__":
    main()
