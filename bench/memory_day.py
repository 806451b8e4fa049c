"""One accelerated day through the real recording path, in a process of its own: RSS before and after.

    python bench/memory_day.py --root TREE --write-capture FILE [--pulses N] [--pose-hz N]
    python bench/memory_day.py --root TREE --capture FILE [--trace]

Run by ``bench/bench_memory.py``, once for this tree and, to compare, once for
another copy of the program (``--root``): everything is imported from TREE, so
the figures of the code before a change and after it come from one machine
and one run. Prints one JSON line. The capture is written by a process of its
own, so building it (some 100 MB of Python objects) does not hide the
recording's growth inside memory the allocator already holds.

The day: one capture of N pulses (10 Hz trains of 40, no pause between them,
60 Hz pose, as a stimulator and tracker send them), replayed through the real
replay adapter, SessionRunner, recorder, writer thread and SQLite file.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def _rss_kb() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process in kB (Linux)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
                  if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--pulses", type=int, default=18_000)
    parser.add_argument("--pose-hz", type=int, default=60)
    parser.add_argument("--write-capture", type=Path, default=None, metavar="FILE")
    parser.add_argument("--capture", type=Path, default=None, metavar="FILE")
    parser.add_argument("--trace", action="store_true", help="also measure Python allocations (slower)")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))

    from console.clinic.protocols import ProtocolSpec
    from console.clinic.records import create_patient, get_patient, open_course, record_motor_threshold
    from console.session.plan import plan_session
    from console.session.runner import SessionRunner
    from db.database import open_database
    from devices.registry import create_adapter
    from tests.engine.capture import TARGET, write_run
    from tests.engine.clinic_setup import POSE_KEYS, screen_uneventfully

    if args.write_capture is not None:
        spec = ProtocolSpec("Accelerated day (bench)", 10.0, 40, max(1, args.pulses // 40), 0.0, 1)
        write_run(args.write_capture, spec, pose_hz=args.pose_hz)
        return 0
    capture = args.capture
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as d:
        tmp = Path(d)
        db_path = tmp / "day.db"
        db = open_database(db_path)
        try:
            patient = create_patient(db, "BENCH-1", "Bench Patient")
            open_course(db, patient.id, "10hz", 120.0, target_pose=dict(zip(POSE_KEYS, TARGET, strict=True)))
            record_motor_threshold(db, patient.id, 52.0, "EMG")
            screen_uneventfully(db, patient.id)
            plan = plan_session(db, get_patient(db, patient.id))
        finally:
            db.close()
        runner = SessionRunner(db_path, create_adapter(f"replay://{capture}"), plan)
        gc.collect()
        if args.trace:
            tracemalloc.start()
        rss0, _ = _rss_kb()
        began = time.perf_counter()
        try:
            runner.open()
            runner.start()
            if not runner.wait_until_ended(1800):
                raise RuntimeError("the session did not end")
            seconds = time.perf_counter() - began
            gc.collect()
            rss1, hwm = _rss_kb()
            traced = tracemalloc.get_traced_memory()[0] if args.trace else None
            snap = runner.snapshot()
        finally:
            runner.close()
    print(json.dumps({
        "root": str(args.root), "pulses": snap.pulses_recorded,
        "status": snap.end_status, "rss_start_kb": rss0, "rss_end_kb": rss1, "rss_peak_kb": hwm,
        "traced_end_bytes": traced, "seconds": round(seconds, 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
