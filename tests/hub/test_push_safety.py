"""The clinical safety records (screenings, clearances, overrides, adverse events, outcomes, safety
notifications, physician reviews of holds, checklists) reach the hub whole, once, equal to the chair,
whether or not a session goes with them (hub schema version 2)."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from db.hub import push, schema
from db.hub.push import HubError, hub_status, push_ended_sessions
from db.hub.reference import COURSE, PATIENT, upsert
from tests.hub.compare import SAFETY, count, differences
from tests.hub.cut import PulseGate
from tests.hub.test_push import ORIGIN_A, ORIGIN_B

AT = "2026-12-07T10:00:00.000Z"


def _new_uuid() -> str:
    return str(uuid.uuid4())


def add_safety_rows(chair_path: Path) -> None:
    """One row in each safety table the demo leaves empty, as the chair's own code would write it
    (the chair's append-only triggers still hold): an override not yet linked to its session."""
    db = sqlite3.connect(chair_path)
    one = db.execute
    try:
        with db:
            patient_id, course_id = one("SELECT patient_id, id FROM courses ORDER BY id").fetchone()
            screening_id = one("SELECT id FROM screenings WHERE patient_id = ?", (patient_id,)).fetchone()[0]
            outcome_id = one("SELECT id FROM outcomes ORDER BY id").fetchone()[0]
            one("INSERT INTO clearances (uuid, patient_id, screening_id, items, reason, signed_by, "
                "signer_name, signer_role, signed_at) VALUES (?, ?, ?, '[\"implant\"]', 'MRI-safe', "
                "'sup', 'Dr Sup', 'supervisor', ?)", (_new_uuid(), patient_id, screening_id, AT))
            one("INSERT INTO overrides (uuid, kind, patient_id, course_id, violations, reason, by_user, "
                "by_role, signed, at) VALUES (?, 'schedule', ?, ?, '[]', 'travel', 'tech', 'technician', "
                "0, ?)", (_new_uuid(), patient_id, course_id, AT))
            adverse = one("INSERT INTO adverse_events (uuid, patient_id, course_id, kind, occurred_at, "
                          "description, by_user, recorded_at) VALUES (?, ?, ?, 'syncope', ?, 'fainted', "
                          "'tech', ?)", (_new_uuid(), patient_id, course_id, AT, AT)).lastrowid
            one("INSERT INTO safety_notifications (outcome_id, told_whom, told_at, by_user, recorded_at) "
                "VALUES (?, 'Dr Who', ?, 'tech', ?)", (outcome_id, AT, AT))
            one("INSERT INTO physician_holds_lifted (uuid, kind, patient_id, course_id, subject_id, "
                "reason, signed_by, signer_role, signed_at) VALUES (?, 'seizure', ?, ?, ?, 'reviewed', "
                "'doc', 'physician', ?)", (_new_uuid(), patient_id, course_id, adverse, AT))
            one("INSERT INTO pre_session_checklists (uuid, patient_id, course_id, at, by_user, answers) "
                "VALUES (?, ?, ?, ?, 'tech', '[]')", (_new_uuid(), patient_id, course_id, AT))
    finally:
        db.close()


def _chair_count(chair_path: Path, table: str) -> int:
    db = sqlite3.connect(chair_path)
    try:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        db.close()


def test_every_safety_table_reaches_the_hub_equal_to_the_chair(chair_a: Path, hub: str) -> None:
    add_safety_rows(chair_a)
    result = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert differences(chair_a, hub, ORIGIN_A) == {}
    for table in SAFETY:
        assert count(hub, table, ORIGIN_A) == _chair_count(chair_a, table) > 0, table
        assert result.safety_rows[table] == _chair_count(chair_a, table)


def test_a_second_push_adds_no_safety_row(chair_a: Path, hub: str) -> None:
    add_safety_rows(chair_a)
    waiting = hub_status(chair_a, hub, origin=ORIGIN_A).safety_waiting
    assert waiting == sum(_chair_count(chair_a, t) for t in SAFETY)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert hub_status(chair_a, hub, origin=ORIGIN_A).safety_waiting == 0
    counts = {t: count(hub, t) for t in (*SAFETY, "patients", "courses")}
    again = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert again.safety_rows == {t: 0 for t in SAFETY}
    assert {t: count(hub, t) for t in counts} == counts


def test_safety_rows_made_after_a_push_go_with_the_next_one_even_without_a_session(
        chair_a: Path, hub: str) -> None:
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    add_safety_rows(chair_a)  # no new session: the rows still go
    again = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert again.pushed == [] and again.safety_rows["clearances"] == 1
    assert differences(chair_a, hub, ORIGIN_A) == {}


def test_an_override_linked_to_its_session_after_the_push_is_linked_at_the_hub_too(
        chair_a: Path, hub: str) -> None:
    add_safety_rows(chair_a)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    db = sqlite3.connect(chair_a)
    with db:
        db.execute("UPDATE overrides SET session_id = (SELECT min(id) FROM sessions) "
                   "WHERE session_id IS NULL")
    db.close()
    again = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert again.safety_rows["overrides"] == 1
    assert differences(chair_a, hub, ORIGIN_A) == {}
    # and once linked, the hub refuses any change, as the chair does
    for statement in ("UPDATE overrides SET session_uuid = NULL", "UPDATE overrides SET reason = 'x'",
                      "DELETE FROM overrides"):
        with psycopg.connect(hub) as conn, pytest.raises(psycopg.errors.RestrictViolation,
                                                         match="append-only"):
            conn.execute(statement.encode())


def test_the_hub_refuses_to_change_or_delete_safety_rows(chair_a: Path, hub: str) -> None:
    add_safety_rows(chair_a)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    for table in SAFETY:
        for statement in (f"UPDATE {table} SET origin = 'x'", f"DELETE FROM {table}",
                          f"TRUNCATE {table} CASCADE"):
            with psycopg.connect(hub) as conn, pytest.raises(psycopg.errors.RestrictViolation,
                                                             match="append-only"):
                conn.execute(statement.encode())
    assert differences(chair_a, hub, ORIGIN_A) == {}


def test_a_push_cut_in_a_safety_batch_leaves_none_of_it_and_the_next_push_completes(
        chair_a: Path, hub: str) -> None:
    add_safety_rows(chair_a)
    gate = PulseGate(hub, nth=2, table="outcomes")  # the 1st outcome goes in; the 2nd waits, then is cut
    failure: list[BaseException] = []

    def run() -> None:
        try:
            push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
        except BaseException as exc:  # the thread hands it to the test
            failure.append(exc)

    pusher = threading.Thread(target=run)
    pusher.start()
    try:
        gate.terminate(gate.wait_for_push())
    finally:
        pusher.join(timeout=120)
        gate.open()
    assert len(failure) == 1 and isinstance(failure[0], HubError)
    assert count(hub, "sessions") == 8
    assert count(hub, "screenings") == _chair_count(chair_a, "screenings")  # its own batch, done before
    assert count(hub, "outcomes") == 0  # the batch it was cut in: none of it
    again = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert again.pushed == [] and again.safety_rows["outcomes"] == _chair_count(chair_a, "outcomes")
    assert differences(chair_a, hub, ORIGIN_A) == {}


def test_two_chairs_keep_their_safety_rows_apart(chair_a: Path, chair_b: Path, hub: str) -> None:
    add_safety_rows(chair_a)
    add_safety_rows(chair_b)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    push_ended_sessions(chair_b, hub, origin=ORIGIN_B)
    assert differences(chair_a, hub, ORIGIN_A) == {}
    assert differences(chair_b, hub, ORIGIN_B) == {}
    # outcomes have no uuid: both chairs' id 1 live side by side, each under its chair's id
    for table in SAFETY:
        assert count(hub, table) == _chair_count(chair_a, table) + _chair_count(chair_b, table), table


def _mark_chair_v1(conn: psycopg.Connection, _chair: object, origin: str, _now: object) -> None:
    conn.execute("INSERT INTO chairs (origin) VALUES (%s) ON CONFLICT (origin) DO UPDATE "
                 "SET last_push_at = now()", (origin,))


def _send_reference_v1(conn: psycopg.Connection, patients: list, courses: list, origin: str,
                       _books: object = None) -> None:
    with conn.cursor() as cur:
        if patients:
            cur.executemany(upsert("patients", PATIENT, ["uuid"], ["origin", "local_id"]),
                            [(*p, origin) for p in patients])
        if courses:
            cur.executemany(upsert("courses", COURSE, ["uuid"], ["origin", "local_id"]),
                            [(*c, origin) for c in courses])


def test_a_hub_made_by_version_1_is_upgraded_in_place_and_keeps_what_it_held(
        chair_a: Path, empty_hub: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as old:  # the program as it was: version 1, no safety tables
        old.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
        old.setattr(schema, "SCHEMA_VERSION", 1)
        old.setattr(push, "SAFETY_TABLES", ())
        # Version 3 added the link of a chair's signature to a sign-off made at the hub: the old
        # program sent no signatures in that form, so here it sends none (the new one sends them late).
        old.setattr(push, "_mark_chair", _mark_chair_v1)  # v3 added the chair's name, site and clock
        old.setattr(push, "_CHILD_SQL", {k: v for k, v in push._CHILD_SQL.items() if k != "signatures"})
        # Version 4 added revisions of patients, courses, accounts and settings: the old program's
        # chair values overwrote the hub's, and it sent no edits or settings of its own.
        old.setattr(push, "send_reference", _send_reference_v1)
        old.setattr(push, "push_reference", lambda *_args: {})
        old.setattr(push, "push_settings", lambda *_args: None)
        with psycopg.connect(empty_hub, autocommit=True) as conn:
            assert schema.init(conn) == [1]
        assert len(push_ended_sessions(chair_a, empty_hub, origin=ORIGIN_A).pushed) == 8
    with pytest.raises(HubError, match="run `hub init`"):
        push_ended_sessions(chair_a, empty_hub, origin=ORIGIN_A)
    with psycopg.connect(empty_hub, autocommit=True) as conn:
        assert schema.init(conn) == [v for v, _ in schema.MIGRATIONS[1:]]
        assert schema.version(conn) == schema.SCHEMA_VERSION
    assert count(empty_hub, "sessions") == 8  # kept through the upgrade
    add_safety_rows(chair_a)
    again = push_ended_sessions(chair_a, empty_hub, origin=ORIGIN_A)
    assert again.pushed == [] and again.already_at_hub == 8
    assert differences(chair_a, empty_hub, ORIGIN_A) == {}
