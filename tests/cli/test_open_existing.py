"""Every reading command finds abandoned sessions when it opens the database (issue 13, #9).

In-process and quick: a session row left in ``recording`` with no lock held is what a
kill -9 leaves (tests/cli/test_readers_after_crash.py does the kill for real). A session
whose lock is held (here, by this process through another open file) is live and is never
touched; a database that cannot be written still tells the reader which sessions are dead.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import cli.common
import main
from db.session_lock import SessionLock
from tests.cli.accounts import account
from tests.db.helpers import new_db_with_session


def _status(path: Path, sid: int) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("SELECT status FROM sessions WHERE id = ?", [sid]).fetchone()[0])
    finally:
        db.close()


def test_review_list_marks_a_dead_recording_interrupted_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clinic.db"
    db, sid = new_db_with_session(path)
    db.close()
    assert main.main(["review", "list", "--review", "all", "--db", str(path), *account(path)]) == 0
    out, err = capsys.readouterr()
    row = [line for line in out.splitlines() if line.startswith(f"{sid:>7}  ")]
    assert len(row) == 1 and "interrupted" in row[0] and "recording" not in row[0]
    assert f"session {sid} was left recording" in err and "marked interrupted" in err
    assert _status(path, sid) == "interrupted"


def test_a_live_recording_is_shown_recording_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clinic.db"
    db, sid = new_db_with_session(path)
    db.close()
    lock = SessionLock(path, sid)
    lock.acquire()  # a recorder's lock: its own open file, so this process's look sees it held
    try:
        assert main.main(["review", "list", "--review", "all", "--db", str(path), *account(path)]) == 0
        out, err = capsys.readouterr()
        row = [line for line in out.splitlines() if line.startswith(f"{sid:>7}  ")]
        assert len(row) == 1 and "recording" in row[0]
        assert "interrupted" not in out and err == ""
        assert _status(path, sid) == "recording"
    finally:
        lock.release()


def test_a_database_that_cannot_be_written_still_names_the_dead_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clinic.db"
    db, sid = new_db_with_session(path)

    def read_only(*_args: object) -> list[int]:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(cli.common, "mark_interrupted_sessions", read_only)
    try:
        assert cli.common.mark_abandoned(db, path, "export") == []
    finally:
        db.close()
    err = capsys.readouterr().err
    assert f"session {sid} shows as recording, but no program is recording it" in err
    assert "readonly" not in err  # plain words, not the database's
    assert _status(path, sid) == "recording"
