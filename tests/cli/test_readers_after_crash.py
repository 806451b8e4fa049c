"""Readers never report a dead recording as live (issue 13, #9), and never touch a live one.

Real processes throughout: ``main.py record --device sim://...`` records into a real
SQLite file; it is killed with SIGKILL (no clean-up at all), then ``export``, ``note``
and ``review list`` run as their own processes, as a supervisor would run them right
after a crash. Each reader gets its own copy of the crashed file, so each one proves
on its own that it finds the abandoned session. With a record still running, the same
readers must show it as recording and leave it alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from db.database import open_database
from tests.cli.accounts import account
from tests.engine.clinic_setup import ROOT, clinic, login_for, session_line

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="kills a process group"),
]

# Commands accepted (a sim:// device that obeys START), slow enough to be mid-run when killed.
DEVICE = "sim://10hz?speed=10&seed=5"


def _record(db_path: Path) -> subprocess.Popen:
    """``record`` leading its own process group: a SIGKILL to the group leaves no helper of it
    behind (its simulator child also exits when record's end of their pipe closes)."""
    user, env = login_for(db_path)
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "record", "--device", DEVICE, "--patient", "P-1",
         "--db", str(db_path), *user],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env, process_group=0,
    )


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)


def _main(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def _wait_for_pulses(db_path: Path, session_id: int, n: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        db = open_database(db_path, create=False)
        try:
            got = db.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [session_id]).fetchone()[0]
        finally:
            db.close()
        if got >= n:
            return
        assert time.monotonic() < deadline, f"fewer than {n} pulses recorded in {timeout:g} s"
        time.sleep(0.05)


def _status(db_path: Path, session_id: int) -> str:
    db = open_database(db_path, create=False)
    try:
        return str(db["sessions"].get(session_id)["status"])
    finally:
        db.close()


def _copy(db_path: Path, folder: Path) -> Path:
    """The database file with its WAL, as a crash left it, in its own folder."""
    folder.mkdir()
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{db_path}{suffix}")
        if src.exists():
            shutil.copyfile(src, folder / f"{db_path.name}{suffix}")
    return folder / db_path.name


def _export_status(db_path: Path, session_id: int) -> str:
    out = _main("export", str(session_id), "--format", "json", "--db", str(db_path), *account(db_path))
    assert out.returncode == 0, out.stderr
    return str(json.loads(out.stdout)["session"]["status"])


def _note_text(db_path: Path, session_id: int, out: Path) -> str:
    done = _main("note", str(session_id), "--out", str(out), "--db", str(db_path), *account(db_path))
    assert done.returncode == 0, done.stderr
    return out.read_text(encoding="utf-8")


def _review_line(db_path: Path, session_id: int) -> str:
    out = _main("review", "list", "--review", "all", "--db", str(db_path), *account(db_path))
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith(f"{session_id:>7}  ")]
    assert len(lines) == 1, out.stdout
    return lines[0]


def test_readers_after_a_kill_9_show_the_session_interrupted(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "10hz")
    proc = _record(db_path)
    try:
        session_id = session_line(proc)
        _wait_for_pulses(db_path, session_id, 5)
    finally:
        _kill_group(proc)  # kill -9: the session row stays "recording", its lock dies with it
    assert _status(db_path, session_id) == "recording"

    export_db = _copy(db_path, tmp_path / "export")
    assert _export_status(export_db, session_id) == "interrupted"
    assert _status(export_db, session_id) == "interrupted"

    note_db = _copy(db_path, tmp_path / "note")
    text = _note_text(note_db, session_id, tmp_path / "note.txt")
    assert "In progress" not in text
    assert "ended unexpectedly" in text
    assert _status(note_db, session_id) == "interrupted"

    review_db = _copy(db_path, tmp_path / "review")
    line = _review_line(review_db, session_id)
    assert "interrupted" in line and "recording" not in line
    assert _status(review_db, session_id) == "interrupted"


def test_readers_leave_a_live_recording_alone_and_show_it_recording(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "10hz")
    proc = _record(db_path)
    try:
        session_id = session_line(proc)
        _wait_for_pulses(db_path, session_id, 5)
        assert _export_status(db_path, session_id) == "recording"
        text = _note_text(db_path, session_id, tmp_path / "note.txt")
        assert "In progress" in text
        assert "recording" in _review_line(db_path, session_id)
        assert proc.poll() is None, "the record command stopped while the readers ran"
        assert _status(db_path, session_id) == "recording"
        db = open_database(db_path, create=False)
        try:
            kinds = [r[0] for r in db.execute(
                "SELECT kind FROM session_events WHERE session_id = ?", [session_id])]
        finally:
            db.close()
        assert "interrupted" not in kinds
    finally:
        _kill_group(proc)
