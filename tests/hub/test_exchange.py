"""The chair's background exchange with the hub (console.sync): push, pull, and sign-offs made at a
review station coming back, each by the same background call the window makes every minute."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from console.clinic.settings import set_setting
from console.people.login import authenticate
from console.people.user import get_user
from console.review.queue import ReviewFilter, find_sessions
from console.sync.hub_sync import HubSync
from db.database import open_database
from tests.hub.conftest import copy_db, origin_of


def _patients(chair: Path) -> set[tuple[str, str]]:
    conn = sqlite3.connect(chair)
    try:
        return {(str(u), str(c).lower()) for u, c in conn.execute("SELECT uuid, clinic_id FROM patients")}
    finally:
        conn.close()


def _set_hub(chair: Path, url: str) -> None:
    db = open_database(chair)
    try:
        set_setting(db, "hub_url", url, get_user(db, "admin"))
    finally:
        db.close()


def _sync(chair: Path) -> HubSync:
    sync = HubSync(chair)
    sync.push_once()
    assert sync.status().problem is None, sync.status().problem
    return sync


def test_a_sign_off_at_the_station_reaches_the_chair_and_the_hub_shows_it_once(
        chair_a: Path, hub: str, tmp_path: Path) -> None:
    from console.review.hub_queue import HubReviewFilter, hub_find_sessions, hub_rows_for
    from console.review.hub_signoff import sign_at_hub

    _set_hub(chair_a, hub)
    _sync(chair_a)
    station_path = copy_db(chair_a, tmp_path / "station.db")
    station = open_database(station_path)
    chair = open_database(chair_a)
    try:
        unsigned_before = find_sessions(chair, ReviewFilter()).ids
        with psycopg.connect(hub, autocommit=True) as conn:
            listed = hub_find_sessions(conn, HubReviewFilter(chair=origin_of(chair_a)))
            target = hub_rows_for(conn, listed, 0, 1)[0]
            user = authenticate(station, "supervisor", "demo-supervisor")
            sign_at_hub(conn, station, user, target.uuid, "demo-supervisor", "reviewed", "fine",
                        station="station-1")
        assert target.id in unsigned_before

        _sync(chair_a)  # the chair's next background exchange

        assert target.id not in find_sessions(chair, ReviewFilter()).ids  # signed on the chair now
        row = chair.execute("SELECT signer_username, meaning, hub_signoff_uuid FROM signatures "
                            "WHERE session_id = ?", [target.id]).fetchone()
        assert row[0] == "supervisor" and row[1] == "reviewed" and row[2]
        with psycopg.connect(hub, autocommit=True) as conn:
            again = hub_rows_for(conn, hub_find_sessions(conn, HubReviewFilter(review="all")), 0, 100)
            assert conn.execute("SELECT count(*) FROM signatures WHERE hub_signoff_uuid = %s",
                                (row[2],)).fetchone()[0] == 1  # the chair's copy is at the hub
        shown = next(r for r in again if r.uuid == target.uuid)
        assert [s.meaning for s in shown.signatures] == ["reviewed"]  # once, not twice
    finally:
        chair.close()
        station.close()


def test_a_patient_made_on_one_chair_reaches_another_by_their_background_exchanges(
        chair_a: Path, chair_b: Path, hub: str) -> None:
    for chair in (chair_a, chair_b):
        _set_hub(chair, hub)
    own_b = _patients(chair_b)
    _sync(chair_a)
    _sync(chair_b)
    db_b = open_database(chair_b)
    db_a = open_database(chair_a)
    try:
        on_b = _patients(chair_b)
        used_on_b = {cid for (_u, cid) in own_b}
        # A's patients whose clinic id B does not use reach B with their uuids; one whose clinic id B
        # uses already is held back as a conflict for an admin (tests/hub/test_conflicts.py).
        arriving = {(u, cid) for (u, cid) in _patients(chair_a) if cid not in used_on_b}
        assert arriving and on_b == own_b | arriving
        course_uuids_a = {r[0] for r in db_a.execute("SELECT uuid FROM courses")}
        course_uuids_b = {r[0] for r in db_b.execute("SELECT uuid FROM courses")}
        assert course_uuids_a & course_uuids_b  # their courses came along
    finally:
        db_a.close()
        db_b.close()


def test_hub_sync_is_the_same_exchange_from_the_command_line(chair_a: Path, chair_b: Path, hub: str) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    for chair in (chair_a, chair_b):
        done = subprocess.run([sys.executable, "main.py", "hub", "sync", "--hub", hub, "--db", str(chair)],
                              cwd=root, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("synced with ")
    assert "pushed 1 session(s)" in done.stdout and "took 0 reference" not in done.stdout  # B took A's
