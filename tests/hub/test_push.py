"""Pushing a chair's ended sessions to a real PostgreSQL hub: whole, once, and equal to the chair."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from db.hub.push import hub_status, push_ended_sessions
from tests.hub.compare import count, differences

ORIGIN_A = str(uuid.UUID("a0000000-0000-4000-8000-00000000000a"))
ORIGIN_B = str(uuid.UUID("b0000000-0000-4000-8000-00000000000b"))


def test_push_sends_every_ended_session_equal_to_the_chair_row_for_row(chair_a: Path, hub: str) -> None:
    result = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert len(result.pushed) == 8 and result.already_at_hub == 0
    with sqlite3.connect(chair_a) as chair:
        assert result.pulses == chair.execute("SELECT count(*) FROM pulses").fetchone()[0]
    assert differences(chair_a, hub, ORIGIN_A) == {}
    assert count(hub, "signatures", ORIGIN_A) == 2  # the demo's two signed sessions
    assert count(hub, "audit_log", ORIGIN_A) > 0


def test_a_second_push_duplicates_nothing(chair_a: Path, hub: str) -> None:
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    counts = {t: count(hub, t) for t in ("sessions", "pulses", "poses", "session_events", "audit_log")}
    again = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert again.pushed == [] and again.already_at_hub == 8 and again.audit_rows == 0
    assert {t: count(hub, t) for t in counts} == counts
    assert differences(chair_a, hub, ORIGIN_A) == {}


def test_two_chairs_push_into_one_hub_and_both_are_there(chair_a: Path, chair_b: Path, hub: str) -> None:
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    pushed_b = push_ended_sessions(chair_b, hub, origin=ORIGIN_B)
    assert len(pushed_b.pushed) == 1
    assert differences(chair_a, hub, ORIGIN_A) == {}
    assert differences(chair_b, hub, ORIGIN_B) == {}
    assert count(hub, "sessions") == 9
    # each chair's audit chain is kept whole under its own id
    with psycopg.connect(hub) as conn:
        origins = {r[0] for r in conn.execute("SELECT DISTINCT origin FROM audit_log")}
    assert origins == {ORIGIN_A, ORIGIN_B}


def test_the_hub_refuses_to_change_or_delete_what_was_pushed(chair_a: Path, hub: str) -> None:
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    for statement in ("UPDATE pulses SET mso = 99", "DELETE FROM poses", "UPDATE sessions SET status = 'x'",
                      "DELETE FROM session_events", "UPDATE signatures SET comment = 'x'",
                      "DELETE FROM audit_log", "TRUNCATE pulses CASCADE"):
        with psycopg.connect(hub) as conn, pytest.raises(psycopg.errors.RestrictViolation,
                                                         match="append-only"):
            conn.execute(statement.encode())
    assert differences(chair_a, hub, ORIGIN_A) == {}


def test_the_same_file_pushed_under_another_chair_id_is_not_taken_twice(chair_a: Path, hub: str) -> None:
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    other = push_ended_sessions(chair_a, hub, origin=ORIGIN_B)
    assert other.pushed == [] and len(other.held_for_another_chair) == 8
    assert count(hub, "sessions") == 8 and count(hub, "sessions", ORIGIN_B) == 0
    status = hub_status(chair_a, hub, origin=ORIGIN_B)
    assert (status.at_hub, status.waiting, status.held_for_another_chair) == (0, 8, 8)


def test_pushes_running_at_once_from_two_chairs_and_twice_from_one_all_land_once(
        chair_a: Path, chair_b: Path, hub: str) -> None:
    from concurrent.futures import ThreadPoolExecutor
    jobs = [(chair_a, ORIGIN_A), (chair_a, ORIGIN_A), (chair_b, ORIGIN_B)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda job: push_ended_sessions(job[0], hub, origin=job[1]), jobs))
    assert len(results[0].pushed) + len(results[1].pushed) == 8  # each session went once, by one of them
    assert results[0].held_for_another_chair == results[1].held_for_another_chair == []
    assert len(results[2].pushed) == 1
    assert differences(chair_a, hub, ORIGIN_A) == {}
    assert differences(chair_b, hub, ORIGIN_B) == {}
