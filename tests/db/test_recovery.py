"""Session locks and crash recovery: a live session is never taken for interrupted."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from db.database import new_uuid, open_database, utc_now
from db.recovery import mark_interrupted_sessions
from db.session_lock import (
    SessionLock,
    SessionLockHeld,
    begin_locked_session,
    is_session_live,
    lock_dir,
    lock_path,
)
from tests.db.helpers import ROOT, Child, new_db_with_session, pulse

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema_v1.db"


def test_lock_held_by_another_process_protects_the_session_until_that_process_dies(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    db, sid = new_db_with_session(path)
    db["pulses"].insert_all([pulse(sid, c) for c in range(1, 41)])
    db["sessions"].update(sid, {"heartbeat_at": "2030-01-01T10:00:05.000+00:00", "pulses_recorded": 30})
    child = Child(f"""
        import time
        from db.session_lock import SessionLock
        lock = SessionLock({str(path)!r}, {sid})
        lock.acquire()
        print("LOCKED", flush=True)
        time.sleep(600)
    """)
    try:
        child.wait_for("LOCKED")
        assert is_session_live(path, sid)
        assert mark_interrupted_sessions(db, path) == []
        assert db.execute("SELECT status FROM sessions WHERE id = ?", [sid]).fetchone()[0] == "recording"
        with pytest.raises(SessionLockHeld, match=f"Session {sid} is being recorded"):
            SessionLock(path, sid, wait_s=0.1).acquire()
    finally:
        child.kill()  # SIGKILL: no clean-up runs, the kernel drops the lock
    assert not is_session_live(path, sid)
    assert mark_interrupted_sessions(db, path) == [sid]
    row = db.execute(
        "SELECT status, ended_at, pulses_recorded, pulses_delivered, end_reason FROM sessions WHERE id = ?",
        [sid]).fetchone()
    assert row[:4] == ("interrupted", "2030-01-01T10:00:05.000+00:00", 40, 40)
    assert "unexpectedly" in row[4]
    assert db.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [sid]).fetchone()[0] == 40
    kind, detail = db.execute("SELECT kind, detail FROM session_events WHERE session_id = ?",
                              [sid]).fetchone()
    assert kind == "interrupted" and json.loads(detail)["pulses_recorded"] == 40
    assert not lock_path(path, sid).exists()  # the stale lock file is tidied away
    assert mark_interrupted_sessions(db, path) == []  # once only
    db.close()


def test_a_session_recorded_by_this_process_is_live_too(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    db, sid = new_db_with_session(path)
    with SessionLock(path, sid) as lock:
        assert lock.held and is_session_live(path, sid)
        assert mark_interrupted_sessions(db, path) == []
    assert not is_session_live(path, sid)
    db.close()


def test_end_time_is_the_last_sign_of_recording(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    db, sid = new_db_with_session(path)
    db["sessions"].update(sid, {"started_at": "2030-01-01T10:00:00.000+00:00",
                                "heartbeat_at": "2030-01-01T10:00:05.000+00:00"})
    db["session_events"].insert({"session_id": sid, "at": "2030-01-01T10:00:07.250+00:00", "kind": "pause"})
    assert mark_interrupted_sessions(db, path) == [sid]
    ended_at, duration = db.execute("SELECT ended_at, duration_s FROM sessions").fetchone()
    assert ended_at == "2030-01-01T10:00:07.250+00:00" and duration == pytest.approx(7.25)
    db.close()


def test_first_version_database_recovers_its_crashed_session(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    shutil.copy(FIXTURE, path)
    db = open_database(path)
    assert mark_interrupted_sessions(db, path) == [2]
    assert db.execute("SELECT status, ended_at FROM sessions WHERE id = 2").fetchone() == (
        "interrupted", "2026-01-06T09:10:02.000+00:00")
    assert db.execute("SELECT status FROM sessions WHERE id = 1").fetchone()[0] == "completed"
    db.close()


def test_begin_locked_session_commits_only_with_its_lock_held(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    db, _ = new_db_with_session(path)
    patient_id = db.execute("SELECT id FROM patients").fetchone()[0]
    seen_during: list[bool] = []
    sid, lock = begin_locked_session(
        db, path, {"uuid": new_uuid(), "patient_id": patient_id, "started_at": utc_now(), "device_url": "sim://"},
        before_commit=lambda d, s: seen_during.append(is_session_live(path, s)),
    )
    try:
        assert seen_during == [True]
        assert lock.held and is_session_live(path, sid)
        other = open_database(path)
        try:
            assert mark_interrupted_sessions(other, path) == [1]  # only the unlocked one
        finally:
            other.close()
        assert db.execute("SELECT status FROM sessions WHERE id = ?", [sid]).fetchone()[0] == "recording"
    finally:
        lock.release()
    assert not lock_path(path, sid).exists()
    db.close()


def test_begin_locked_session_leaves_nothing_when_it_fails(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    db, _ = new_db_with_session(path)
    before = db.execute("SELECT count(*) FROM sessions").fetchone()[0]

    def fail(d, s) -> None:
        raise RuntimeError("device vanished")

    with pytest.raises(RuntimeError, match="device vanished"):
        begin_locked_session(db, path, {"uuid": new_uuid(), "patient_id": 1, "started_at": utc_now(),
                                        "device_url": "sim://"}, before_commit=fail)
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == before
    assert list(lock_dir(path).glob("*.lock")) == []
    db.close()


def test_many_processes_starting_sessions_at_once_all_get_one(tmp_path: Path) -> None:
    """Six chairs' recorders starting together on one file: each waits its turn (BEGIN
    IMMEDIATE + busy timeout) instead of failing with "database is locked"."""
    import subprocess
    import sys
    import textwrap

    db, _ = new_db_with_session(tmp_path / "clinic.db")
    db.close()
    child = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from db.database import open_database, new_uuid, utc_now
        from db.session_lock import begin_locked_session
        path = {str(tmp_path / "clinic.db")!r}
        db = open_database(path)
        start = float(sys.argv[1])
        while time.time() < start:
            time.sleep(0.001)
        sid, lock = begin_locked_session(db, path, {{"uuid": new_uuid(), "patient_id": 1,
                                          "started_at": utc_now(), "device_url": "sim://"}})
        print(sid)
        lock.release()
    """)
    start = time.time() + 1.5
    procs = [subprocess.Popen([sys.executable, "-c", child, str(start)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(6)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    ids = sorted(int(out) for out, _ in outs)
    assert len(set(ids)) == 6
