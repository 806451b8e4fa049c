"""Small helpers the storage tests share: a database with a patient and a
recording session, and a child Python process that can be killed for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import sqlite_utils

from db.database import new_uuid, open_database, utc_now

ROOT = Path(__file__).resolve().parents[2]


def new_db_with_session(path: Path) -> tuple[sqlite_utils.Database, int]:
    """A fresh database holding one patient and one session in ``recording``."""
    db = open_database(path)
    patient_id = db["patients"].insert({
        "uuid": new_uuid(), "clinic_id": "T-1", "name": "Test Patient", "initials": "TP",
        "created_at": utc_now(),
    }).last_pk
    session_id = db["sessions"].insert({
        "uuid": new_uuid(), "patient_id": patient_id, "started_at": utc_now(), "device_url": "sim://",
    }).last_pk
    return db, session_id


def pulse(session_id: int, count: int) -> dict:
    return {"session_id": session_id, "count": count, "device_t_ms": 100 * count, "mso": 58,
            "didt": 80.0, "train": 1 + (count - 1) // 40, "x": -42.0, "y": 38.5, "z": 61.2,
            "qw": 1.0, "qx": 0.0, "qy": 0.0, "qz": 0.0, "distance_mm": 0.4, "angle_deg": 0.3,
            "on_target": 1}


class Child:
    """A Python child process running ``code``; ``wait_for`` reads its stdout lines."""

    def __init__(self, code: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )

    def wait_for(self, prefix: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith(prefix):
                return line.strip()
            if not line and self.proc.poll() is not None:
                raise AssertionError(f"child ended ({self.proc.returncode}): {self.proc.stderr.read()}")
        raise AssertionError(f"child never printed {prefix!r}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.proc.stderr.close()
