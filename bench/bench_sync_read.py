"""What the hub's background sync costs the chair's file each minute, before any network: reading the
hub address. Through ``open_database`` that meant an integrity check of the whole file (``PRAGMA
quick_check`` reads every page); through ``connect`` it is one query. A chair's month (220 sessions,
660,000 pulses, the file bench_hub catches up) shows the difference a clinic would feel.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils

from bench.bench_hub import MONTH_SESSIONS, _chair, _month
from db.database import connect, open_database

RUNS = 5


def _median_ms(open_: Callable[[Path], sqlite_utils.Database], path: Path) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        db = open_(path)
        db.execute("SELECT value FROM settings WHERE key = 'hub_url'").fetchall()
        db.close()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-sync-read-") as tmp:
        chair = _chair(Path(tmp))
        _month(chair, MONTH_SESSIONS)
        figures: dict[str, Any] = {
            "chair_file_mb": round(chair.stat().st_size / 1e6, 1),
            "open_database_ms": _median_ms(open_database, chair),
            "connect_ms": _median_ms(connect, chair),
            "ok": True,
        }
    for key, value in figures.items():
        print(f"sync_read: {key} = {value}")
    return figures
