"""The hub decides between chairs: a losing edit is kept for an admin, never silently lost; the same
clinic id made on two chairs offline keeps both patients. Real hub, real chair files, real commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from console.clinic import patient_records
from console.clinic.records import active_course, courses_of, find_patient
from db.hub.push import push_ended_sessions
from tests.hub.test_pull import chair, new_patient_on, pull, user
from tests.hub.test_push import ORIGIN_A, ORIGIN_B

ROOT = Path(__file__).resolve().parents[2]

# `hub pull` / `hub conflicts` in a process of their own, registered as cli.hub_cmd registers them.
_RUNNER = ("import argparse, sys\n"
           "from cli.hub_pull_cmd import add_pull_commands\n"
           "parser = argparse.ArgumentParser(prog='main.py hub')\n"
           "add_pull_commands(parser.add_subparsers(dest='hub_action', required=True))\n"
           "args = parser.parse_args(sys.argv[1:])\n"
           "sys.exit(args.func(args))\n")


def hub_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _RUNNER, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)


def rename(path: Path, name: str, clinic_id: str = "MRN-7001") -> None:
    with chair(path) as db:
        patient = find_patient(db, clinic_id)
        assert patient is not None
        patient_records.update_patient(db, user(db, "supervisor"), patient.id, clinic_id=clinic_id, name=name,
                                       date_of_birth=patient.date_of_birth)


def name_on(path: Path, clinic_id: str = "MRN-7001") -> str:
    with chair(path) as db:
        patient = find_patient(db, clinic_id)
        assert patient is not None
        return patient.name


def conflicts(hub: str, kind: str = "edit") -> list[tuple]:
    """The hub's conflicts of one kind (the demo chairs also share clinic id MRN-1004 and the demo
    accounts' user names: conflicts of their own kinds)."""
    with psycopg.connect(hub) as conn:
        return conn.execute("SELECT entity, kind, losing_origin, loser_values, winner_values, uuid, "
                            "other_uuid FROM conflicts WHERE kind = %s ORDER BY id", (kind,)).fetchall()


@pytest.fixture
def shared(chair_a: Path, chair_b: Path, hub: str) -> str:
    """A patient made on chair A, pushed, and pulled by chair B: both chairs hold it."""
    uuid, _ = new_patient_on(chair_a)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    pull(chair_b, hub, ORIGIN_B)
    return uuid


def test_edits_on_two_chairs_offline_the_first_at_the_hub_wins_and_the_loser_is_kept(
        chair_a: Path, chair_b: Path, hub: str, shared: str) -> None:
    rename(chair_a, "Nora Quinn-Hale")
    rename(chair_b, "Nora Q. Quinn")
    assert push_ended_sessions(chair_a, hub, origin=ORIGIN_A).reference.get("taken") == 1
    assert push_ended_sessions(chair_b, hub, origin=ORIGIN_B).reference.get("lost") == 1
    with psycopg.connect(hub) as conn:
        assert conn.execute("SELECT name, revision FROM patients WHERE uuid = %s", (shared,)).fetchone() == (
            "Nora Quinn-Hale", 2)
    [(entity, kind, loser_origin, loser, winner, uuid, _)] = conflicts(hub)
    assert (entity, kind, loser_origin, uuid) == ("patient", "edit", ORIGIN_B, shared)
    assert loser["name"] == "Nora Q. Quinn" and winner["name"] == "Nora Quinn-Hale"
    push_ended_sessions(chair_b, hub, origin=ORIGIN_B)  # pushed again before B pulled: still one conflict
    assert len(conflicts(hub)) == 1

    result = pull(chair_b, hub, ORIGIN_B)
    assert result.lost == [shared] and name_on(chair_b) == "Nora Quinn-Hale"
    with chair(chair_b) as db:
        actor, old = db.execute("SELECT actor, old_values FROM audit_log "
                                "WHERE action = 'hub_conflict_lost_patient'").fetchone()
    assert actor == "hub" and "Nora Q. Quinn" in old
    assert pull(chair_b, hub, ORIGIN_B).lost == []  # said once
    assert push_ended_sessions(chair_b, hub, origin=ORIGIN_B).reference.get("lost") is None

    listed = hub_cli("conflicts", "--hub", hub)
    assert listed.returncode == 0, listed.stderr
    assert "clinic id MRN-7001" in listed.stdout
    assert "name: the hub kept 'Nora Quinn-Hale'; not taken: 'Nora Q. Quinn'" in listed.stdout


def test_an_edit_not_yet_pushed_when_the_chair_pulls_is_kept_as_a_conflict_not_overwritten(
        chair_a: Path, chair_b: Path, hub: str, shared: str) -> None:
    rename(chair_b, "Nora Q. Quinn")  # B edits, and pulls before any push
    rename(chair_a, "Nora Quinn-Hale")
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    result = pull(chair_b, hub, ORIGIN_B)
    assert result.lost == [shared] and name_on(chair_b) == "Nora Quinn-Hale"
    [(_, kind, loser_origin, loser, _, _, _)] = conflicts(hub)
    assert (kind, loser_origin, loser["name"]) == ("edit", ORIGIN_B, "Nora Q. Quinn")


def test_an_edit_with_no_other_survives_a_pull_and_reaches_the_other_chair(
        chair_a: Path, chair_b: Path, hub: str, shared: str) -> None:
    rename(chair_b, "Nora Q. Quinn")
    result = pull(chair_b, hub, ORIGIN_B)  # the hub has nothing newer: the edit stays, to be pushed
    assert result.lost == [] and result.updated == {} and name_on(chair_b) == "Nora Q. Quinn"
    assert push_ended_sessions(chair_b, hub, origin=ORIGIN_B).reference.get("taken") == 1
    pull(chair_a, hub, ORIGIN_A)
    assert name_on(chair_a) == "Nora Q. Quinn" and conflicts(hub) == []


def test_the_same_clinic_id_made_on_two_chairs_offline_keeps_both_and_says_so(
        chair_a: Path, chair_b: Path, hub: str) -> None:
    # The demo patient MRN-1004 was registered on both chairs, each with its own uuid and sessions.
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    push_ended_sessions(chair_b, hub, origin=ORIGIN_B)
    with psycopg.connect(hub) as conn:
        both = conn.execute("SELECT p.uuid, p.origin, count(s.uuid) FROM patients p "
                            "LEFT JOIN sessions s ON s.patient_uuid = p.uuid WHERE p.clinic_id = 'MRN-1004' "
                            "GROUP BY p.uuid, p.origin ORDER BY p.origin").fetchall()
    assert [(o, n > 0) for _, o, n in both] == [(ORIGIN_A, True), (ORIGIN_B, True)]
    same = conflicts(hub, "same clinic id")
    assert len(same) == 1 and {same[0][5], same[0][6]} == {both[0][0], both[1][0]}
    with chair(chair_b) as db:
        own = find_patient(db, "MRN-1004")
    for _ in range(2):
        result = pull(chair_b, hub, ORIGIN_B)
        assert [h.key for h in result.held_back if h.table == "patients"] == [both[0][0]]
    with chair(chair_b) as db:
        assert find_patient(db, "MRN-1004") == own  # never overwritten
        assert db.execute("SELECT count(*) FROM patients WHERE uuid = ?", [both[0][0]]).fetchone()[0] == 0
    push_ended_sessions(chair_b, hub, origin=ORIGIN_B)
    assert len(conflicts(hub, "same clinic id")) == 1

    pulled = hub_cli("pull", "--hub", hub, "--db", str(chair_a), "--origin", ORIGIN_A)
    assert pulled.returncode == 0, pulled.stderr
    assert "the clinic id MRN-1004 is another patient's on this chair" in pulled.stderr
    listed = hub_cli("conflicts", "--hub", hub)
    assert "same clinic id" in listed.stdout and "both are kept" in listed.stdout


def test_the_hub_refuses_to_change_or_delete_a_conflict(chair_a: Path, chair_b: Path, hub: str,
                                                        shared: str) -> None:
    rename(chair_a, "Nora Quinn-Hale")
    rename(chair_b, "Nora Q. Quinn")
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    push_ended_sessions(chair_b, hub, origin=ORIGIN_B)
    for statement in ("UPDATE conflicts SET loser_values = NULL", "DELETE FROM conflicts",
                      "TRUNCATE conflicts"):
        with psycopg.connect(hub) as conn, pytest.raises(psycopg.errors.RestrictViolation,
                                                         match="append-only"):
            conn.execute(statement.encode())
    assert len(conflicts(hub)) == 1


def test_a_hub_that_cannot_be_reached_is_one_line_and_the_chair_is_unchanged(chair_b: Path) -> None:
    before = chair_b.read_bytes()
    pulled = hub_cli("pull", "--hub", "postgresql://nobody@127.0.0.1:1/none", "--db", str(chair_b),
                     "--origin", ORIGIN_B)
    assert pulled.returncode == 2 and pulled.stderr.count("\n") == 1 and "cannot be reached" in pulled.stderr
    assert "Traceback" not in pulled.stderr
    assert chair_b.read_bytes() == before


def test_a_course_closed_on_two_chairs_for_different_reasons_keeps_the_first_and_the_other(
        chair_a: Path, chair_b: Path, hub: str, shared: str) -> None:
    for path, reason in ((chair_a, "course completed"), (chair_b, "patient moved away")):
        with chair(path) as db:
            patient = find_patient(db, "MRN-7001")
            assert patient is not None
            course = active_course(db, patient.id)
            assert course is not None
            patient_records.close_course(db, user(db, "supervisor"), course.id, reason)
    push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    push_ended_sessions(chair_b, hub, origin=ORIGIN_B)
    [(entity, _, loser_origin, loser, winner, _, _)] = conflicts(hub)
    assert (entity, loser_origin) == ("course", ORIGIN_B)
    assert (winner["close_reason"], loser["close_reason"]) == ("course completed", "patient moved away")
    pull(chair_b, hub, ORIGIN_B)
    with chair(chair_b) as db:
        patient = find_patient(db, "MRN-7001")
        assert patient is not None
        assert [c.close_reason for c in courses_of(db, patient.id)] == ["course completed"]
