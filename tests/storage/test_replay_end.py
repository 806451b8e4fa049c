"""The runner ends a replay that runs out by itself (the GUI has no ``record`` loop to do it),
and a session whose writer cannot start does not stay ``recording``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cli.record import CAPTURE_ENDED
from console.session.runner import SessionRunner
from db.database import open_database
from db.session_lock import is_session_live
from devices.registry import create_adapter
from tests.engine.capture import write_run
from tests.engine.test_runner import new_patient


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    open_database(path).close()
    return path


def test_a_replay_without_an_end_of_session_ends_itself(db_path: Path, tmp_path: Path) -> None:
    _, plan = new_patient(db_path)
    capture = write_run(tmp_path / "r.tscp", end=None)  # no end of session in it
    runner = SessionRunner(db_path, create_adapter(f"replay://{capture}"), plan)
    try:
        runner.open()
        assert runner.wait_until_ended(20), "the replay ran out and the session went on"
        snap = runner.snapshot()
    finally:
        runner.close("closed by the test")
    assert (snap.state, snap.end_status, snap.end_reason, snap.pulses_recorded) == (
        "ended", "stopped", CAPTURE_ENDED, 600)
    db = open_database(db_path)
    s = db["sessions"].get(runner.session_id)
    assert (s["status"], s["end_reason"], s["pulses_recorded"]) == ("stopped", CAPTURE_ENDED, 600)
    db.close()


def test_record_and_the_runner_share_the_capture_ended_words() -> None:
    from console.session import runner

    assert runner.CAPTURE_ENDED is CAPTURE_ENDED


def test_a_writer_that_cannot_start_leaves_the_session_interrupted(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, plan = new_patient(db_path)

    def cannot_open(path: object) -> None:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr("db.writer.connect", cannot_open)
    runner = SessionRunner(db_path, create_adapter(f"replay://{write_run(tmp_path / 'r.tscp')}"), plan)
    with pytest.raises(sqlite3.OperationalError):
        runner.open()
    runner.close()
    assert runner.session_id is not None
    db = open_database(db_path)
    s = db["sessions"].get(runner.session_id)
    db.close()
    assert s["status"] == "interrupted"
    assert s["end_reason"] == "the recording could not start: the database could not be written"
    assert s["ended_at"] is not None
    assert not is_session_live(db_path, runner.session_id)
