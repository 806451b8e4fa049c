"""``backup``: a consistent copy while the console writes, which passes integrity_check."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cli.backup import BackupError, backup_database
from console.audit import audit, verify
from db.database import connect
from tests.accounts.conftest import add_session
from tests.cli.accounts import account

ROOT = Path(__file__).resolve().parents[2]
BATCH = 10


class Writer(threading.Thread):
    """Writes like the recorder and a person at once: 10 pulses and one audit row per transaction."""

    def __init__(self, path: Path, session: int) -> None:
        super().__init__(name="test-writer")
        self.path, self.session = path, session
        self.batches = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        db = connect(self.path)
        try:
            count = 0
            while not self.stop.is_set():
                with db.atomic():
                    for _ in range(BATCH):
                        count += 1
                        db.execute("INSERT INTO pulses (session_id, count, device_t_ms, mso) "
                                   "VALUES (?, ?, ?, 50)", [self.session, count, count])
                    audit(db, "tom", "batch", "session", self.session, None, {"pulses": count})
                self.batches += 1
                # A breath between commits, far shorter than the recorder's (one commit per 100 ms):
                # with none, SQLite's busy handler lets this thread take the lock back at once and
                # the backup command's own audit row starved past its 5 s busy timeout.
                self.stop.wait(0.005)
        except BaseException as exc:
            self.error = exc
        finally:
            db.close()

    def wait_for(self, batches: int) -> None:
        deadline = threading.Event()
        for _ in range(6000):
            if self.batches >= batches or self.error:
                return
            deadline.wait(0.01)
        raise AssertionError("the writer did not write")


def check_copy(path: Path, session: int) -> int:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        pulses = conn.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [session]).fetchone()[0]
        batches = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'batch'").fetchone()[0]
    finally:
        conn.close()
    assert pulses == BATCH * batches  # a snapshot between transactions, never inside one
    return batches


def test_backup_while_a_writer_writes_is_consistent_and_passes_integrity_check(db, db_path, people,
                                                                               tmp_path) -> None:
    session = add_session(db, ended=False, pulses=0)
    writer = Writer(db_path, session)
    writer.start()
    try:
        seen = []
        for n in range(3):
            writer.wait_for(5 + 20 * n)
            result = backup_database(db_path, tmp_path / f"copy-{n}.db")
            assert result.audit.ok, result.audit.problem
            assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
            seen.append(check_copy(result.path, session))
        writer.wait_for(seen[-1] + 5)
        out = subprocess.run([sys.executable, str(ROOT / "main.py"), "backup", str(tmp_path),
                              "--db", str(db_path), *account(db_path)], capture_output=True, text=True,
                             timeout=120, cwd=ROOT)
        assert out.returncode == 0, out.stderr
        assert "integrity ok" in out.stdout and "audit trail ok" in out.stdout
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None
    assert seen == sorted(seen) and seen[0] >= 5
    dated = [p for p in tmp_path.glob("tms-console-*.db")]
    assert len(dated) == 1 and check_copy(dated[0], session) >= seen[-1]
    assert writer.batches > seen[-1]  # the writer kept going during and after the copies
    assert verify(db).ok


def test_backup_of_a_closed_database_and_what_it_refuses(db, db_path, people, tmp_path) -> None:
    db.close()
    copy = backup_database(db_path, tmp_path / "b.db").path
    assert sqlite3.connect(copy).execute("SELECT count(*) FROM users").fetchone()[0] == 4
    with pytest.raises(BackupError, match="already exists"):
        backup_database(db_path, copy)
    with pytest.raises(BackupError, match="no database"):
        backup_database(tmp_path / "missing.db", tmp_path / "c.db")
    with pytest.raises(BackupError, match="does not exist"):
        backup_database(db_path, tmp_path / "no-folder" / "c.db")
    assert not list(tmp_path.glob("*.partial"))
