"""The chair goes on working while it pushes: a recording is never held up and is sent once it has ended;
what is added to a session after it reached the hub (a side effect, a signature, an addendum) follows."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import psycopg
import pytest

from console.people.user import get_user
from console.review import signoff
from console.session import entries
from db.database import open_database
from db.hub.push import push_ended_sessions
from devices.sim.process import SimulatorProcess
from tests.engine.clinic_setup import clinic, record_process, session_line
from tests.hub.compare import count, differences
from tests.hub.test_push import ORIGIN_A, ORIGIN_B


def _pulses(db_path: Path, session_id: int) -> int:
    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute("SELECT count(*) FROM pulses WHERE session_id = ?", (session_id,)).fetchone()
        return int(row[0])
    finally:
        conn.close()


def test_a_session_being_recorded_waits_and_goes_once_it_has_ended(tmp_path: Path, hub: str) -> None:
    db_path = tmp_path / "chair.db"
    clinic(db_path, "itbs")
    with SimulatorProcess("itbs", speed=20, seed=2) as sim:
        proc = record_process(db_path, sim.url)
        sid = session_line(proc)
        deadline = time.monotonic() + 60
        while _pulses(db_path, sid) < 20:
            assert time.monotonic() < deadline, "no pulses recorded"
            time.sleep(0.05)
        during = push_ended_sessions(db_path, hub, origin=ORIGIN_B)  # while the chair records
        out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert "ENDED completed" in out  # the push held up nothing
    assert during.pushed == [] and during.still_recording == 1
    after = push_ended_sessions(db_path, hub, origin=ORIGIN_B)
    assert len(after.pushed) == 1 and after.pulses == 600
    assert differences(db_path, hub, ORIGIN_B) == {}


def test_a_push_needs_no_write_lock_on_the_chair(chair_a: Path, hub: str) -> None:
    writer = sqlite3.connect(chair_a, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another program holds the chair's write lock throughout
    try:
        result = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert len(result.pushed) == 8
    assert differences(chair_a, hub, ORIGIN_A) == {}


def test_entries_and_signatures_added_after_the_push_follow_in_the_next(chair_a: Path, hub: str) -> None:
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    db = open_database(chair_a)
    try:
        unsigned = db.execute("SELECT id FROM sessions WHERE id NOT IN (SELECT session_id FROM signatures) "
                              "ORDER BY id LIMIT 2").fetchall()
        tech, supervisor = get_user(db, "technician"), get_user(db, "supervisor")
        assert tech is not None and supervisor is not None
        entries.add_side_effect(db, tech, unsigned[0][0], "headache", 3, "after the run")
        signoff.add_addendum(db, supervisor, unsigned[1][0], "Coil position checked again: fine.")
        signoff.sign_session(db, supervisor, unsigned[1][0], "demo-supervisor", "reviewed")
    finally:
        db.close()
    later = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert later.pushed == [] and later.late_rows == 3 and later.audit_rows >= 3
    assert differences(chair_a, hub, ORIGIN_A) == {}
    assert count(hub, "addenda", ORIGIN_A) == 1
    again = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert again.late_rows == 0 and again.audit_rows == 0
    # as on the chair, the hub takes no new event on a signed session
    with psycopg.connect(hub) as conn, pytest.raises(psycopg.errors.RestrictViolation,
                                                     match="signed and locked"):
        conn.execute("INSERT INTO session_events (session_uuid, event_id, origin, at, kind) "
                     "SELECT uuid, 999999, origin, '2026-12-07T18:00:00.000+00:00', 'note' FROM sessions "
                     "WHERE local_id = %s", (unsigned[1][0],))
