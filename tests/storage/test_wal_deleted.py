"""The -wal and -shm files deleted while recording: said loudly, and the session is kept.

Real processes: ``main.py record`` records the simulator (a real pty) into a real
SQLite file; this test deletes the file's -wal and -shm midway and then reads the
file from another connection, held open until the recording has ended, as any
reader of the record would (the review screen, ``export``). Without a rescue the
whole session lives only in the deleted log, which the recorder's last connection
cannot bring back while another connection is open: it vanishes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from db.database import open_database
from tests.engine.clinic_setup import clinic, record_process, session_line

pytestmark = pytest.mark.slow


def pulses_in(db_path: Path, session_id: int) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [session_id]).fetchone()[0]
    finally:
        conn.close()


def test_deleting_the_wal_while_recording_is_said_and_loses_nothing(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "itbs")
    proc = record_process(db_path, "sim://itbs?speed=20&seed=2")
    try:
        sid = session_line(proc)
        deadline = time.monotonic() + 60
        while pulses_in(db_path, sid) < 30:
            assert time.monotonic() < deadline and proc.poll() is None, "no pulses recorded"
            time.sleep(0.05)
        os.unlink(f"{db_path}-wal")
        os.unlink(f"{db_path}-shm")
        reader = sqlite3.connect(db_path)  # a reader after the deletion makes new -wal/-shm files
        try:
            reader.execute("SELECT count(*) FROM sessions").fetchone()
            out, err = proc.communicate(timeout=90)
        finally:
            reader.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert "ENDED completed pulses 600/600" in out
    assert proc.returncode == 1, err
    assert "record: WARNING: The database's files were changed while recording: the database's " \
           "working files (-wal, -shm) were deleted while recording" in err
    assert f"check session {sid} in {db_path}" in err
    conn = sqlite3.connect(db_path)  # a fresh connection, after the run
    try:
        status, recorded = conn.execute(
            "SELECT status, pulses_recorded FROM sessions WHERE id = ?", [sid]).fetchone()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert (status, recorded, pulses_in(db_path, sid)) == ("completed", 600, 600)


def test_a_replaced_database_file_is_said_and_nothing_is_written_to_the_wrong_file(tmp_path: Path) -> None:
    from db.writer import FilesReplaced, Writer, storage_problem  # here: names new with this test

    db_path = tmp_path / "clinic.db"
    open_database(db_path).close()
    writer = Writer(db_path)
    writer.start()
    try:
        writer.call(lambda d: d.execute("CREATE TABLE t (x)"))
        assert writer.flush(10)
        shutil.copy(db_path, tmp_path / "other.db")
        os.replace(tmp_path / "other.db", db_path)  # someone puts another file in its place
        writer.insert_many("t", [{"x": 1}, {"x": 2}])
        deadline = time.monotonic() + 30
        while writer.failing is None:
            assert time.monotonic() < deadline, "the replaced file went unnoticed"
            time.sleep(0.02)
        assert isinstance(writer.failing, FilesReplaced) and writer.incident is writer.failing
        assert storage_problem(writer.failing).startswith("the database file was deleted or replaced")
        assert writer.waiting_rows() == {"t": 2}
    finally:
        writer.close(timeout=0.5)
    assert writer.abandoned_rows == {"t": 2}
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    finally:
        conn.close()
