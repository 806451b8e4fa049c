"""An ended session's record cannot be changed, by the program or by anyone with a SQLite shell."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from db.database import utc_now
from tests.db.helpers import new_db_with_session, pulse


@pytest.fixture
def ended(tmp_path: Path):
    """A database with one completed session holding a pulse, a pose, an event and an addendum."""
    db, sid = new_db_with_session(tmp_path / "t.db")
    db["pulses"].insert(pulse(sid, 1))
    db["poses"].insert({"session_id": sid, "idx": 0, "device_t_ms": 50, "quality": 0.9, "x": 1.0, "y": 2.0,
                        "z": 3.0, "qw": 1.0, "qx": 0.0, "qy": 0.0, "qz": 0.0})
    db["session_events"].insert({"session_id": sid, "at": utc_now(), "kind": "note", "detail": "ok"})
    db["sessions"].update(sid, {"status": "completed", "ended_at": utc_now(), "pulses_recorded": 1})
    db["addenda"].insert({"session_id": sid, "at": utc_now(), "by_user": "sup", "text": "checked"})
    yield db, sid
    db.close()


def test_a_recording_session_can_still_change(tmp_path: Path) -> None:
    db, sid = new_db_with_session(tmp_path / "t.db")
    db.execute("UPDATE sessions SET pulses_recorded = 5, heartbeat_at = ? WHERE id = ?", [utc_now(), sid])
    db.execute("UPDATE sessions SET status = 'stopped', end_reason = 'operator' WHERE id = ?", [sid])
    assert db.execute("SELECT status FROM sessions").fetchone()[0] == "stopped"
    db.close()


@pytest.mark.parametrize("sql", [
    "UPDATE sessions SET pulses_recorded = 99",
    "UPDATE sessions SET status = 'recording'",
    "DELETE FROM sessions",
    "UPDATE pulses SET mso = 99",
    "DELETE FROM pulses",
    "INSERT INTO pulses (session_id, count, device_t_ms, mso) VALUES (1, 2, 200, 58)",
    "UPDATE poses SET x = 0",
    "DELETE FROM poses",
    "INSERT INTO poses (session_id, idx, device_t_ms, quality) VALUES (1, 1, 60, 0.9)",
    "UPDATE session_events SET detail = 'changed'",
    "DELETE FROM session_events",
    "UPDATE addenda SET text = 'changed'",
    "DELETE FROM addenda",
])
def test_an_ended_session_is_append_only(ended, sql: str) -> None:
    db, _sid = ended
    with pytest.raises(sqlite3.IntegrityError, match=r"append-only|ended|never deleted"):
        db.execute(sql)
    assert db.execute("SELECT status, pulses_recorded FROM sessions").fetchone() == ("completed", 1)
    assert db.execute("SELECT count(*), max(mso) FROM pulses").fetchone() == (1, 58)


def test_corrections_are_addenda_and_events_may_still_be_added(ended) -> None:
    db, sid = ended
    db["addenda"].insert({"session_id": sid, "at": utc_now(), "by_user": "sup", "text": "pulse 1 was fine"})
    db["session_events"].insert({"session_id": sid, "at": utc_now(), "kind": "side_effect",
                                 "detail": "mild headache after the session"})
    assert db.execute("SELECT count(*) FROM addenda").fetchone()[0] == 2


def test_session_events_cannot_change_even_while_recording(tmp_path: Path) -> None:
    db, sid = new_db_with_session(tmp_path / "t.db")
    db["session_events"].insert({"session_id": sid, "at": utc_now(), "kind": "fault", "code": "E1"})
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE session_events SET code = 'E2'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM session_events")
    db.close()
