"""Recording at a real device's pace: a steady stream with no gap and no end of session.

A real stimulator streams pose at 30-60 Hz and never sends TSCP's EOS, so the
adapter's iterator never comes back idle. Stop (the GUI's button, the record
command's SIGTERM) must still end the session, and the session row's summary
and heartbeat must still be written while it records (after a crash, recovery
reads them). Each test runs the simulator as its own process at speed 1,
recording-only (commands=0), with pose at 60 Hz and 10 Hz pulses.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

import pytest

from db.database import open_database

from .clinic_setup import clinic, record_process, session_line
from .test_runner_sim import runner_for, wait_until

pytestmark = pytest.mark.slow

REAL_PACE = "sim://10hz?speed=1&commands=0&pose_hz=60&seed=7"


def row_now(db_path: Path, sid: int) -> tuple[str, str, int, int]:
    """(status, heartbeat_at, frames_received, pulses_recorded) as another process would read them."""
    db = sqlite3.connect(db_path, timeout=10)
    try:
        status, heartbeat, frames, pulses = db.execute(
            "SELECT status, heartbeat_at, frames_received, pulses_recorded FROM sessions WHERE id = ?",
            [sid]).fetchone()
    finally:
        db.close()
    return status, heartbeat, frames or 0, pulses or 0


def test_the_row_is_kept_fresh_and_stop_ends_a_steady_stream(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    runner = runner_for(db_path, REAL_PACE, "10hz")
    try:
        sid = runner.open()
        runner.start(by="tina")
        wait_until(lambda: runner.snapshot().pulses_recorded >= 5, "pulses at the device's pace", 30)
        first = row_now(db_path, sid)
        assert first[0] == "recording"
        # the row follows the recording while it runs (summary every 1 s): heartbeat and counters move
        wait_until(lambda: (now := row_now(db_path, sid))[1] > first[1] and now[2] > first[2]
                   and now[3] > first[3], "the session row to be updated while recording", 15)
        worst = 0.0
        for _ in range(3):  # never more than 2 s old (4 s here: a loaded machine writes late)
            time.sleep(1.0)
            status, heartbeat, _frames, _pulses = row_now(db_path, sid)
            db = sqlite3.connect(db_path)
            age = db.execute("SELECT (julianday('now') - julianday(?)) * 86400", [heartbeat]).fetchone()[0]
            db.close()
            worst = max(worst, age)
        assert status == "recording" and worst < 4.0, f"heartbeat {worst:.2f} s old"
        asked = time.monotonic()
        runner.stop("Patient asked to stop", by="tina")
        assert runner.wait_until_ended(5.0), "stop did not end a session whose device streams steadily"
        took = time.monotonic() - asked
        snap = runner.snapshot()
    finally:
        runner.close()
    assert (snap.end_status, snap.end_reason) == ("stopped", "Patient asked to stop")
    assert took < 5.0
    status, _heartbeat, frames, pulses = row_now(db_path, sid)
    assert status == "stopped" and frames > 0 and pulses >= 5


def test_sigterm_stops_the_record_command_at_a_real_pace(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "10hz")
    proc = record_process(db_path, REAL_PACE)
    try:
        sid = session_line(proc)
        db = open_database(db_path)
        deadline = time.monotonic() + 60
        while db.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [sid]).fetchone()[0] < 15:
            assert time.monotonic() < deadline, "no pulses recorded"
            time.sleep(0.05)
        db.close()
        asked = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - asked
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "ENDED stopped" in out and took < 10.0  # includes closing the simulator process
    db = open_database(db_path)
    s = db["sessions"].get(sid)
    rows = db.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [sid]).fetchone()[0]
    db.close()
    assert (s["status"], s["end_reason"]) == ("stopped", "operator")
    assert 15 <= rows == s["pulses_recorded"] and s["duration_s"] > 1.0
