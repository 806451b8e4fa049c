"""The writer thread: batching, durability, errors that must not lose other rows."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

import db.database
from db.database import DatabaseUnusable, open_database
from db.writer import Writer
from tests.db.helpers import Child, new_db_with_session, pulse


def test_many_small_submits_become_few_transactions(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    main, sid = new_db_with_session(path)
    writer = Writer(path, max_latency_s=0.5)
    writer.start()
    try:
        for count in range(1, 3001):
            writer.insert("pulses", pulse(sid, count))
        assert writer.flush(timeout=60)
        stored = main.execute("SELECT count(*), min(count), max(count) FROM pulses").fetchone()
        assert stored == (3000, 1, 3000)
        # 3000 rows submitted one by one, committed in a handful of transactions.
        assert 1 <= writer.committed_batches <= 20
        assert writer.committed_operations == 3000 and writer.failed_operations == 0
    finally:
        writer.close()
        main.close()


def test_order_of_operations_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    main, sid = new_db_with_session(path)
    writer = Writer(path)
    writer.start()
    try:
        writer.insert_many("pulses", [pulse(sid, c) for c in (1, 2, 3)])
        writer.update("sessions", sid, {"pulses_recorded": 3})
        writer.insert("pulses", pulse(sid, 4))
        # Ending the session, then a late pulse: the trigger must refuse the pulse,
        # which proves the end was written before it.
        writer.update("sessions", sid, {"status": "completed", "pulses_recorded": 4})
        writer.insert("pulses", pulse(sid, 5))
        seen = writer.call(lambda d: d.execute("SELECT count(*) FROM pulses").fetchone()[0])
        assert writer.flush(timeout=60)
        assert seen.result(timeout=1) == 4
        assert main.execute("SELECT status, pulses_recorded FROM sessions").fetchone() == ("completed", 4)
        assert main.execute("SELECT max(count) FROM pulses").fetchone()[0] == 4
        assert "session has ended" in str(writer.last_error)
    finally:
        writer.close()
        main.close()


def test_a_refused_row_is_reported_and_every_other_row_lands(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    main, sid = new_db_with_session(path)
    errors: list[Exception] = []
    writer = Writer(path, max_latency_s=1.0)
    writer.on_error = errors.append
    writer.start()
    try:
        writer.insert_many("pulses", [pulse(sid, c) for c in range(1, 11)])
        # In the same batch: a pulse stored twice, a table that does not exist, an update of no row.
        writer.insert_many("pulses", [pulse(sid, 11), pulse(sid, 5), pulse(sid, 12)])
        writer.insert("no_such_table", {"x": 1})
        writer.update("sessions", 9999, {"pulses_recorded": 1})
        writer.insert("pulses", pulse(sid, 13))
        assert writer.flush(timeout=60)
        counts = [r[0] for r in main.execute("SELECT count FROM pulses ORDER BY count")]
        assert counts == list(range(1, 14))
        assert len(errors) == 3 and writer.failed_operations == 3
        assert isinstance(errors[0], sqlite3.IntegrityError) and "UNIQUE" in str(errors[0])
        assert "no_such_table" in str(errors[1]) and "no such row" in str(errors[2])
        # Later batches still land.
        writer.insert("pulses", pulse(sid, 14))
        assert writer.flush(timeout=60)
        assert main.execute("SELECT max(count) FROM pulses").fetchone()[0] == 14
    finally:
        writer.close()
        main.close()


def test_a_failing_call_fails_its_future_only(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    main, sid = new_db_with_session(path)
    writer = Writer(path)
    writer.start()
    try:
        def broken(d) -> None:
            d.execute("INSERT INTO pulses (session_id, count, device_t_ms, mso) VALUES (?, 1, 0, 50)", [sid])
            raise ValueError("bug in the caller")

        failed = writer.call(broken)
        writer.insert("pulses", pulse(sid, 2))
        assert writer.flush(timeout=60)
        with pytest.raises(ValueError, match="bug in the caller"):
            failed.result(timeout=1)
        # The call's own half-done write was undone; the next operation landed.
        assert [r[0] for r in main.execute("SELECT count FROM pulses")] == [2]
    finally:
        writer.close()
        main.close()


def test_flushed_rows_survive_the_process_being_killed(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    main, sid = new_db_with_session(path)
    main.close()
    child = Child(f"""
        import time
        from db.writer import Writer
        from tests.db.helpers import pulse
        w = Writer({str(path)!r}, max_latency_s=10.0)   # nothing would commit on its own for 10 s
        w.start()
        for c in range(1, 501):
            w.insert("pulses", pulse({sid}, c))
        assert w.flush(timeout=60)
        print("FLUSHED", w.committed_batches, flush=True)
        time.sleep(600)
    """)
    try:
        child.wait_for("FLUSHED")
        # Read by this (second) process while the writer's process is still alive...
        reader = open_database(path)
        try:
            assert reader.execute("SELECT count(*) FROM pulses").fetchone()[0] == 500
        finally:
            reader.close()
    finally:
        child.kill()  # ...and after it died with SIGKILL, without closing anything.
    reader = open_database(path)
    try:
        assert reader.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert reader.execute("SELECT count(*), max(count) FROM pulses").fetchone() == (500, 500)
    finally:
        reader.close()


def test_writes_wait_out_a_locked_database_and_then_land(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(db.database, "BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "t.db"
    main, sid = new_db_with_session(path)
    errors: list[Exception] = []
    writer = Writer(path, max_latency_s=0.05)
    writer.on_error = errors.append
    writer.start()
    try:
        main.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
        writer.insert("pulses", pulse(sid, 1))
        deadline = time.monotonic() + 60
        while not errors and time.monotonic() < deadline:
            time.sleep(0.02)
        assert errors and "locked" in str(errors[0])
        assert not writer.flush(timeout=0.3)
        assert writer.pending >= 1
        main.execute("ROLLBACK")
        assert writer.flush(timeout=60)
        assert main.execute("SELECT count(*) FROM pulses").fetchone()[0] == 1
        assert writer.pending == 0
    finally:
        writer.close()
        main.close()


def test_submitting_never_waits_for_the_disk(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(db.database, "BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "t.db"
    main, sid = new_db_with_session(path)
    writer = Writer(path, max_latency_s=0.05)
    writer.start()
    try:
        main.execute("BEGIN IMMEDIATE")  # the writer cannot commit anything now
        submitted = threading.Event()

        def reader_thread() -> None:
            for c in range(1, 1001):
                writer.insert("pulses", pulse(sid, c))
            submitted.set()

        t = threading.Thread(target=reader_thread)
        t.start()
        t.join(timeout=60)
        assert submitted.is_set()  # all submitted while the database was locked
        main.execute("ROLLBACK")
        assert writer.flush(timeout=60)
        assert main.execute("SELECT count(*) FROM pulses").fetchone()[0] == 1000
    finally:
        writer.close()
        main.close()


def test_close_commits_what_is_queued_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    main, sid = new_db_with_session(path)
    writer = Writer(path, max_latency_s=10.0)
    writer.start()
    for c in range(1, 101):
        writer.insert("pulses", pulse(sid, c))
    writer.close()
    writer.close()
    assert main.execute("SELECT count(*) FROM pulses").fetchone()[0] == 100
    with pytest.raises(RuntimeError, match="closed"):
        writer.insert("pulses", pulse(sid, 101))
    main.close()


def test_start_reports_a_missing_database(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "missing.db")
    with pytest.raises(DatabaseUnusable, match="does not exist"):
        writer.start()
    writer.close()
