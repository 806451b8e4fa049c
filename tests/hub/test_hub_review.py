"""The review queue at the hub (issue 18): the chairs' flags, order and filters on PostgreSQL, signing
off at a review station, and that sign-off going back to the chair that recorded the session.

Chair A is the demo clinic with more problems added the way a chair's file holds them (every flag
occurs, and side effect ratings in the odd forms a JSON detail can take); chair B is another chair.
Both are pushed to a real hub the real way; the chair's own queue (console.review.queue) is the
reference every hub answer is compared with.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlite_utils

from console.errors import PermissionDenied
from console.people.admin import create_user
from console.people.user import AuthError, User, get_user
from console.review.flags import CODES, FlagConfig, flag_config
from console.review.hub_queue import (
    HubReviewFilter,
    find_chair,
    hub_choices,
    hub_find_sessions,
    hub_rows_for,
)
from console.review.hub_signoff import (
    chair_hub_record_hash,
    hub_record_hash,
    hub_signoffs_for,
    sign_at_hub,
    take_back,
    take_back_signoffs,
)
from console.review.queue import ReviewFilter, find_sessions
from console.review.signoff import SignOffError, record_hash
from db.database import open_database
from db.hub.push import push_ended_sessions
from tests.hub.conftest import origin_of

ROOT = Path(__file__).resolve().parents[2]
SUPERVISOR_PASSWORD = "demo-supervisor"




def _copy_session(conn: sqlite3.Connection, source: int, started_at: str, **summary: object) -> int:
    """A new ended session like ``source``, written as a recording writes it (row, then ended)."""
    columns = [r[1] for r in conn.execute("PRAGMA table_info(sessions)")
               if r[1] not in ("id", "uuid", "status", "started_at")]
    names = ", ".join(columns)
    new = conn.execute(f"INSERT INTO sessions (uuid, status, started_at, {names}) "
                       f"SELECT ?, 'recording', ?, {names} FROM sessions WHERE id = ?",
                       (str(uuid.uuid4()), started_at, source)).lastrowid
    assert new is not None
    if summary:
        sets = ", ".join(f"{k} = ?" for k in summary)
        conn.execute(f"UPDATE sessions SET {sets} WHERE id = ?", (*summary.values(), new))
    conn.execute("UPDATE sessions SET status = 'completed' WHERE id = ?", (new,))
    return new


def _event(conn: sqlite3.Connection, session_id: int, kind: str, code: str | None,
           detail: str | None) -> None:
    conn.execute("INSERT INTO session_events (session_id, at, kind, code, detail, by_user) "
                 "VALUES (?, '2026-12-06T10:00:00.000+00:00', ?, ?, ?, 'technician')",
                 (session_id, kind, code, detail))


def _enrich(path: Path) -> None:
    """Every review flag on chair A, and side effect ratings in every form the chair's SQL reads."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        unsigned = [r[0] for r in conn.execute(
            "SELECT id FROM sessions WHERE id NOT IN (SELECT session_id FROM signatures) ORDER BY id")]
        s1, s2, s3 = unsigned[:3]
        _event(conn, s1, "alarm", "intensity",
               '{"message": "12 % MSO above the prescription", "raised": true}')
        _event(conn, s1, "side_effect", "headache", '{"rating": "8"}')        # text: 8, flagged
        _event(conn, s2, "side_effect", "dizziness", '{"rating": 7.9}')      # a number cut to 7, flagged
        for odd in ('not json {', '{"rating": true}', '{"rating": "abc"}', '{"x": {"rating": 9}}',
                    '[{"rating": 9}]', '{"rating": null}', '{"rating": 6.99}', '{"rating": " 5 mild"}'):
            _event(conn, s3, "side_effect", "fatigue", odd)                   # none of them flagged
        of_session = "SELECT patient_id, course_id FROM sessions WHERE id = ?"
        patient, course = conn.execute(of_session, (s2,)).fetchone()
        conn.execute("INSERT INTO overrides (uuid, kind, patient_id, course_id, session_id, violations, "
                     "reason, by_user, by_role, signed, at) VALUES (?, 'intensity', ?, ?, ?, '[]', "
                     "'tolerability', 'supervisor', 'supervisor', 1, '2026-12-06T09:00:00.000+00:00')",
                     (str(uuid.uuid4()), patient, course, s2))
        p3, c3 = conn.execute(of_session, (s3,)).fetchone()
        conn.execute("INSERT INTO adverse_events (uuid, patient_id, course_id, session_id, kind, "
                     "occurred_at, description, by_user, recorded_at) VALUES (?, ?, ?, ?, 'syncope', "
                     "'2026-12-06T09:40:00.000+00:00', 'felt faint', 'technician', "
                     "'2026-12-06T09:45:00.000+00:00')", (str(uuid.uuid4()), p3, c3, s3))
        _copy_session(conn, s1, "2026-12-03T10:00:00.000+00:00", faults=2)
        _copy_session(conn, s1, "2026-12-03T11:00:00.000+00:00", frames_missing=3)
        _copy_session(conn, s1, "2026-12-03T12:00:00.000+00:00", pulses_observed=0)
        _copy_session(conn, s1, "2026-12-06T09:30:00.000+00:00")  # the same start as others: ties
        measured = conn.execute("SELECT max(measured_at) FROM motor_thresholds WHERE patient_id = "
                                "(SELECT patient_id FROM sessions WHERE id = ?)", (s1,)).fetchone()[0]
        _copy_session(conn, s1, measured)  # started the moment its threshold was measured: current
        # A patient with a course and no motor threshold on record.
        new_patient = conn.execute(
            "INSERT INTO patients (uuid, clinic_id, name, date_of_birth, initials, created_at) "
            "VALUES (?, 'MRN-9001', 'No Threshold', NULL, 'NT', '2026-11-01T08:00:00.000+00:00')",
            (str(uuid.uuid4()),)).lastrowid
        cols = [r[1] for r in conn.execute("PRAGMA table_info(courses)")
                if r[1] not in ("id", "uuid", "patient_id")]
        new_course = conn.execute(f"INSERT INTO courses (uuid, patient_id, {', '.join(cols)}) "
                                  f"SELECT ?, ?, {', '.join(cols)} FROM courses WHERE id = ?",
                                  (str(uuid.uuid4()), new_patient, course)).lastrowid
        _copy_session(conn, s1, "2026-12-02T09:00:00.000+00:00", patient_id=new_patient, course_id=new_course)
        conn.execute("COMMIT")
    finally:
        conn.close()


Clinic = tuple[psycopg.Connection, Path, Path]


def _one(conn: psycopg.Connection, sql: str, *params: object) -> object:
    row = conn.execute(sql.encode(), params).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def clinic(hub: str, chair_a: Path, chair_b: Path) -> Iterator[Clinic]:
    """Chair A (enriched) and chair B pushed to a hub made by `hub init` (schema.init)."""
    _enrich(chair_a)
    for path in (chair_a, chair_b):
        result = push_ended_sessions(path, hub, origin=origin_of(path))
        assert result.pushed
    with psycopg.connect(hub, autocommit=True) as conn:
        yield conn, chair_a, chair_b


def _chair_list(path: Path, f: ReviewFilter) -> tuple[list[str], list[int]]:
    db = open_database(path)
    try:
        listed = find_sessions(db, f)
        uuids = dict(db.execute("SELECT id, uuid FROM sessions").fetchall())
        return [uuids[i] for i in listed.ids], listed.masks
    finally:
        db.close()


def _config(path: Path) -> FlagConfig:
    db = open_database(path)
    try:
        return flag_config(db)
    finally:
        db.close()


def _name_chairs(conn: psycopg.Connection, a: Path, b: Path) -> None:
    """What the push will send later (the chairs' names and sites), set by hand for now."""
    conn.execute("UPDATE chairs SET name = 'Chair A', site = 'North' WHERE origin = %s", (origin_of(a),))
    conn.execute("UPDATE chairs SET name = 'Chair B', site = 'South' WHERE origin = %s", (origin_of(b),))


def test_every_session_has_the_chairs_flags_at_the_hub(clinic: Clinic) -> None:
    conn, a, b = clinic
    hub = hub_find_sessions(conn, HubReviewFilter(review="all"), _config(a))
    at_hub = dict(zip(hub.uuids, hub.masks, strict=True))
    seen = 0
    for path in (a, b):
        uuids, masks = _chair_list(path, ReviewFilter(review="all"))
        assert {u: at_hub[u] for u in uuids} == dict(zip(uuids, masks, strict=True))
        for m in masks:
            seen |= m
    assert len(at_hub) == len(_chair_list(a, ReviewFilter(review="all"))[0]) + \
        len(_chair_list(b, ReviewFilter(review="all"))[0])
    assert seen == (1 << len(CODES)) - 1, "every flag occurs, so every rule was compared"


def test_the_queue_of_one_chair_is_in_the_chairs_order(clinic: Clinic) -> None:
    conn, a, _ = clinic
    cfg = _config(a)
    for sort, descending in (("problems", True), ("problems", False), ("started", False), ("pulses", True),
                             ("protocol", False), ("on_target", True)):
        f = ReviewFilter(sort=sort, descending=descending)
        chair_uuids, chair_masks = _chair_list(a, f)
        hub = hub_find_sessions(conn, HubReviewFilter(chair=origin_of(a), sort=sort, descending=descending),
                                cfg)
        assert hub.uuids == chair_uuids, (sort, descending)
        assert hub.masks == chair_masks
    for flag in ("adverse", "mt_old", "any", "none"):
        assert hub_find_sessions(conn, HubReviewFilter(chair=origin_of(a), flag=flag),
                                 cfg).uuids == _chair_list(a, ReviewFilter(flag=flag))[0]


def test_rows_show_the_chairs_columns_with_chair_and_site(clinic: Clinic) -> None:
    conn, a, b = clinic
    _name_chairs(conn, a, b)
    listed = hub_find_sessions(conn, HubReviewFilter(review="all"), _config(a))
    rows = hub_rows_for(conn, listed, 0, len(listed))
    assert [r.uuid for r in rows] == listed.uuids
    db = open_database(a)
    try:
        from console.review.queue import rows_for
        chair_rows = {r.id: r for r in rows_for(db, find_sessions(db, ReviewFilter(review="all")), 0, 100)}
    finally:
        db.close()
    for row in rows:
        if row.origin != origin_of(a):
            assert (row.chair_name, row.site) == ("Chair B", "South")
            continue
        assert (row.chair_name, row.site) == ("Chair A", "North")
        mine = chair_rows[row.id]
        for name in ("started_at", "clinic_id", "initials", "number_in_course", "planned_sessions",
                     "technician", "protocol", "status", "pulses_delivered", "pulses_on_target", "mask",
                     "flags", "addenda", "signatures"):
            assert getattr(row, name) == getattr(mine, name), name
    choices = hub_choices(conn)
    assert choices.sites == ["North", "South"]
    assert [name for _, name, _ in choices.chairs] == ["Chair A", "Chair B"]
    assert find_chair(conn, "chair b") == origin_of(b) and find_chair(conn, "Chair C") is None


def test_chair_and_site_filter_the_queue(clinic: Clinic) -> None:
    conn, a, b = clinic
    _name_chairs(conn, a, b)
    cfg = _config(a)
    everything = hub_find_sessions(conn, HubReviewFilter(), cfg)
    north = hub_find_sessions(conn, HubReviewFilter(site="North"), cfg)
    south = hub_find_sessions(conn, HubReviewFilter(site="South"), cfg)
    only_b = hub_find_sessions(conn, HubReviewFilter(chair=origin_of(b)), cfg)
    assert north.uuids == _chair_list(a, ReviewFilter())[0]
    assert south.uuids == only_b.uuids == _chair_list(b, ReviewFilter())[0] and only_b.uuids
    assert sorted(everything.uuids) == sorted(north.uuids + south.uuids)
    assert [u for u in everything.uuids if u in set(north.uuids)] == north.uuids  # one order for all
    assert not hub_find_sessions(conn, HubReviewFilter(site="West"), cfg).uuids


def _station(path: Path) -> sqlite_utils.Database:
    return open_database(path)


def _unsigned(conn: psycopg.Connection, cfg: FlagConfig) -> list[str]:
    return hub_find_sessions(conn, HubReviewFilter(), cfg).uuids


def _user(db: sqlite_utils.Database, name: str) -> User:
    user = get_user(db, name)
    assert user is not None
    return user


def test_signing_at_the_hub(clinic: Clinic) -> None:
    conn, _, b = clinic
    station = _station(b)  # chair B's computer serves as the review station
    cfg = _config(b)
    target = _unsigned(conn, cfg)[0]
    count = "SELECT count(*) FROM hub_signoffs"
    with pytest.raises(AuthError):
        sign_at_hub(conn, station, _user(station, "supervisor"), target, "wrong", "reviewed", station="st")
    with pytest.raises(PermissionDenied):
        sign_at_hub(conn, station, _user(station, "technician"), target, "demo-technician", "reviewed",
                    station="st")
    with pytest.raises(SignOffError):
        sign_at_hub(conn, station, _user(station, "supervisor"), target, SUPERVISOR_PASSWORD, "liked",
                    station="st")
    assert _one(conn, count) == 0
    assert target in _unsigned(conn, cfg)

    signed = sign_at_hub(conn, station, _user(station, "supervisor"), target, SUPERVISOR_PASSWORD, "reviewed",
                         " looks right ", station=origin_of(b))
    assert (signed.session_uuid, signed.meaning, signed.comment, signed.station) == \
        (target, "reviewed", "looks right", origin_of(b))
    assert signed.hub_record_hash == hub_record_hash(conn, target)
    assert target not in _unsigned(conn, cfg)
    assert target in hub_find_sessions(conn, HubReviewFilter(review="signed"), cfg).uuids
    audit = station.execute("SELECT actor, entity_id, new_values FROM audit_log WHERE action = "
                            "'sign_session_at_hub'").fetchall()
    assert len(audit) == 1 and audit[0][:2] == ("supervisor", target) and signed.uuid in audit[0][2]

    with pytest.raises(SignOffError, match="already signed"):
        sign_at_hub(conn, station, _user(station, "supervisor"), target, SUPERVISOR_PASSWORD, "reviewed",
                    station=origin_of(b))
    sign_at_hub(conn, station, _user(station, "supervisor"), target, SUPERVISOR_PASSWORD, "approved",
                station=origin_of(b))
    assert len(hub_signoffs_for(conn, target)) == 2
    for statement in ("UPDATE hub_signoffs SET meaning = 'approved'", "DELETE FROM hub_signoffs",
                      "TRUNCATE hub_signoffs"):
        with pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute(statement)
    assert _one(conn, count) == 2
    station.close()


def test_the_hub_hashes_the_record_the_chair_holds(clinic: Clinic) -> None:
    conn, a, _ = clinic
    db = open_database(a)
    try:
        sessions = db.execute("SELECT id, uuid FROM sessions ORDER BY id").fetchall()
        hashes = {chair_hub_record_hash(db, sid) for sid, _ in sessions}
        for sid, u in sessions:
            assert chair_hub_record_hash(db, sid) == hub_record_hash(conn, u)
    finally:
        db.close()
    assert len(hashes) == len(sessions)


def test_a_hub_signoff_goes_back_to_its_chair_once(clinic: Clinic) -> None:
    conn, a, b = clinic
    station = _station(b)
    cfg = _config(a)
    origin_a = origin_of(a)
    target = hub_find_sessions(conn, HubReviewFilter(chair=origin_a), cfg).uuids[0]
    signed = sign_at_hub(conn, station, _user(station, "supervisor"), target, SUPERVISOR_PASSWORD, "reviewed",
                         "seen at the station", station=origin_of(b))
    # Someone the chair does not know (yet) signs another of its sessions: it waits.
    create_user(station, _user(station, "admin"), "visiting", "Vera Visiting", "supervisor",
                "Visiting-pass-123")
    other = hub_find_sessions(conn, HubReviewFilter(chair=origin_a), cfg).uuids[0]
    sign_at_hub(conn, station, _user(station, "visiting"), other, "Visiting-pass-123", "reviewed",
                station=origin_of(b))
    station.close()

    chair = open_database(a)
    try:
        assert target in _chair_list(a, ReviewFilter())[0]
        first = take_back(conn, chair, origin_a)
        assert (first.taken, first.waiting, first.differing) == (1, 1, [])
        assert take_back_signoffs(conn, chair, origin_a) == 0  # idempotent
        sid, row = chair.execute("SELECT s.id, g.record_hash FROM signatures g JOIN sessions s ON s.id = "
                                 "g.session_id WHERE g.hub_signoff_uuid = ?", [signed.uuid]).fetchone()
        assert row == record_hash(chair, sid)
        line = chair.execute("SELECT signer_username, meaning, comment, signed_at FROM signatures "
                             "WHERE hub_signoff_uuid = ?", [signed.uuid]).fetchone()
        assert line == ("supervisor", "reviewed", "seen at the station", signed.signed_at)
        audit = chair.execute("SELECT actor, entity_id, new_values FROM audit_log "
                              "WHERE action = 'sign_session' ORDER BY id DESC LIMIT 1").fetchone()
        assert audit[:2] == ("supervisor", str(sid)) and origin_of(b) in audit[2] and signed.uuid in audit[2]
    finally:
        chair.close()
    assert target not in _chair_list(a, ReviewFilter())[0]  # the chair's own queue: signed now
    assert target in _chair_list(a, ReviewFilter(review="signed"))[0]

    push_ended_sessions(a, str(conn.info.dsn), origin=origin_a)  # the chair's copy goes to the hub
    assert _one(conn, "SELECT count(*) FROM signatures WHERE hub_signoff_uuid = %s", signed.uuid) == 1
    listed = hub_find_sessions(conn, HubReviewFilter(review="signed"), cfg)
    assert listed.uuids.count(target) == 1
    row = hub_rows_for(conn, listed, listed.uuids.index(target), listed.uuids.index(target) + 1)[0]
    assert [(s.meaning, s.name) for s in row.signatures] == [("reviewed", "Sam Super (demo)")]


# --- the commands, in their own process -------------------------------------------------------------

_RUNNER = """
import argparse, sys
from cli.hub_review_cmd import add_review_commands
parser = argparse.ArgumentParser(prog="main.py")
hub = parser.add_subparsers(dest="command", required=True).add_parser("hub")
add_review_commands(hub.add_subparsers(dest="hub_action", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(int(args.func(args)))
"""


def _cli(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TMS_CONSOLE_PASSWORD"}
    if password is not None:
        env["TMS_CONSOLE_PASSWORD"] = password
    return subprocess.run([sys.executable, "-c", _RUNNER, "hub", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=180, env=env)


def test_hub_review_and_hub_sign_commands(clinic: Clinic, tmp_path: Path) -> None:
    conn, a, b = clinic
    _name_chairs(conn, a, b)
    hub = str(conn.info.dsn)
    queue_a = _chair_list(a, ReviewFilter())[0]
    shown = _cli("review", "--hub", hub, "--db", str(b), "--user", "supervisor", "--chair", "chair a",
                 password=SUPERVISOR_PASSWORD)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"{len(queue_a)} session(s)")
    lines = [line for line in shown.stdout.splitlines() if line[:36] in set(queue_a)]
    assert [line[:36] for line in lines] == queue_a and "Chair A (North)" in lines[0]

    out = tmp_path / "queue.csv"
    written = _cli("review", "--hub", hub, "--db", str(b), "--user", "supervisor", "--site", "South", "--csv",
                   str(out), "--review", "all", password=SUPERVISOR_PASSWORD)
    assert written.returncode == 0, written.stderr
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["session_uuid"] for r in rows] == _chair_list(b, ReviewFilter(review="all"))[0]
    assert {r["chair"] for r in rows} == {"Chair B"}

    unknown = _cli("review", "--hub", hub, "--db", str(b), "--user", "supervisor", "--chair", "Chair Z",
                   password=SUPERVISOR_PASSWORD)
    assert unknown.returncode == 1 and "Chair A, Chair B" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    target = queue_a[0]
    wrong = _cli("sign", "--hub", hub, "--db", str(b), "--user", "supervisor", "--session", target,
                 "--meaning", "reviewed", password="not-it")
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert _one(conn, "SELECT count(*) FROM hub_signoffs") == 0
    done = _cli("sign", "--hub", hub, "--db", str(b), "--user", "supervisor", "--session", target,
                "--meaning", "reviewed", "--comment", "fine", password=SUPERVISOR_PASSWORD)
    assert done.returncode == 0, done.stderr
    assert f"session {target} signed (reviewed) at the hub by Sam Super (demo)" in done.stdout
    station = conn.execute("SELECT station FROM hub_signoffs WHERE session_uuid = %s", (target,)).fetchone()
    assert station == (origin_of(b),)
    again = _cli("sign", "--hub", hub, "--db", str(b), "--user", "supervisor", "--session", target,
                 "--meaning", "reviewed", password=SUPERVISOR_PASSWORD)
    assert again.returncode == 1 and "already signed" in again.stderr
    after = _cli("review", "--hub", hub, "--db", str(b), "--user", "supervisor", "--chair", "Chair A",
                 password=SUPERVISOR_PASSWORD)
    assert target not in after.stdout and after.stdout.startswith(f"{len(queue_a) - 1} session(s)")


def test_a_record_changed_on_the_chair_after_the_hub_signoff_is_not_signed_for(clinic: Clinic) -> None:
    """A side effect noted on the chair after the hub's copy was signed: the signer never saw it, so
    the chair does not put their signature on it; the session stays in the chair's queue."""
    from console.session.entries import add_side_effect

    conn, a, b = clinic
    station = _station(b)
    origin_a = origin_of(a)
    target = hub_find_sessions(conn, HubReviewFilter(chair=origin_a), _config(a)).uuids[0]
    signed = sign_at_hub(conn, station, _user(station, "supervisor"), target, SUPERVISOR_PASSWORD, "reviewed",
                         station=origin_of(b))
    station.close()
    chair = open_database(a)
    try:
        sid = chair.execute("SELECT id FROM sessions WHERE uuid = ?", [target]).fetchone()[0]
        assert chair_hub_record_hash(chair, sid) == signed.hub_record_hash
        add_side_effect(chair, _user(chair, "technician"), sid, "headache", 3, "noted after the review")
        for _ in range(2):
            result = take_back(conn, chair, origin_a)
            assert (result.taken, result.differing) == (0, [signed.uuid])
        assert chair.execute("SELECT count(*) FROM signatures WHERE session_id = ?", [sid]).fetchone()[0] == 0
    finally:
        chair.close()
    assert target in _chair_list(a, ReviewFilter())[0]

