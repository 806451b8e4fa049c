"""The clinic's settings travel through the hub; a chair's own (its hub address, its name) never do; two
chairs changing one setting offline: the first at the hub wins, the other is kept for an admin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from console.audit import audit
from console.clinic.settings import get_setting, is_per_chair, set_setting
from console.people.user import get_user
from db.database import open_database
from db.hub.pull import PullResult, pull_reference
from db.hub.push import push_ended_sessions
from tests.hub.conftest import origin_of

ROOT = Path(__file__).resolve().parents[2]


def _set(chair: Path, key: str, value: object) -> None:
    db = open_database(chair)
    try:
        admin = get_user(db, "admin")
        assert admin is not None
        set_setting(db, key, value, admin)
    finally:
        db.close()


def _get(chair: Path, key: str) -> object:
    db = open_database(chair)
    try:
        return get_setting(db, key)
    finally:
        db.close()


def _audit_rows(chair: Path, action: str) -> list[tuple]:
    db = open_database(chair)
    try:
        return db.execute("SELECT actor, entity, entity_id, new_values FROM audit_log WHERE action = ?",
                          [action]).fetchall()
    finally:
        db.close()


def _push(chair: Path, hub: str) -> None:
    push_ended_sessions(chair, hub, origin=origin_of(chair))


def _pull(chair: Path, hub: str) -> PullResult:
    return pull_reference(chair, hub, origin=origin_of(chair), audit=audit)


def test_an_admins_change_on_one_chair_reaches_the_other(chair_a: Path, chair_b: Path, hub: str) -> None:
    _set(chair_a, "mt_remeasure_days", 14)
    _push(chair_a, hub)
    _pull(chair_b, hub)
    assert _get(chair_b, "mt_remeasure_days") == 14
    rows = _audit_rows(chair_b, "hub_update_setting")
    assert [(r[0], r[1], r[2]) for r in rows] == [("hub", "setting", "mt_remeasure_days")]
    assert "14" in rows[0][3]

    again = _pull(chair_b, hub)  # pulling twice changes nothing
    assert again.updated.get("settings", 0) == 0
    assert len(_audit_rows(chair_b, "hub_update_setting")) == 1

    _set(chair_b, "mt_remeasure_days", 21)  # B edits it after agreeing: the hub takes it
    _push(chair_b, hub)
    _pull(chair_a, hub)
    assert _get(chair_a, "mt_remeasure_days") == 21
    with psycopg.connect(hub) as conn:
        assert conn.execute("SELECT count(*) FROM conflicts WHERE entity = 'setting'").fetchone() == (0,)


def test_a_chairs_own_settings_never_travel(chair_a: Path, chair_b: Path, hub: str) -> None:
    assert is_per_chair("chair_name") and is_per_chair("hub_url") and not is_per_chair("mt_remeasure_days")
    _set(chair_a, "chair_name", "Room 2")
    _set(chair_a, "hub_url", "postgresql://tms@elsewhere/tms")
    _set(chair_b, "chair_name", "Room 5")
    _push(chair_a, hub)
    _pull(chair_b, hub)
    with psycopg.connect(hub) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM clinic_settings")]
    assert "chair_name" not in keys and "hub_url" not in keys
    assert _get(chair_b, "chair_name") == "Room 5"
    assert _get(chair_b, "hub_url") == ""


def test_a_setting_never_set_on_a_chair_does_not_overwrite_the_hubs(chair_a: Path, chair_b: Path,
                                                                     hub: str) -> None:
    _set(chair_a, "idle_lock_minutes", 5)
    _push(chair_a, hub)
    _push(chair_b, hub)  # B keeps the shipped default: it sends nothing
    with psycopg.connect(hub) as conn:
        assert conn.execute("SELECT value, revision FROM clinic_settings WHERE key = 'idle_lock_minutes'"
                            ).fetchone() == ("5", 1)
    _pull(chair_b, hub)
    assert _get(chair_b, "idle_lock_minutes") == 5


def test_two_chairs_changing_one_setting_offline_the_first_at_the_hub_wins(chair_a: Path, chair_b: Path,
                                                                            hub: str) -> None:
    _set(chair_a, "phq9_interval_days", 10)
    _set(chair_b, "phq9_interval_days", 14)
    _push(chair_a, hub)
    _push(chair_b, hub)
    with psycopg.connect(hub) as conn:
        assert conn.execute("SELECT value FROM clinic_settings WHERE key = 'phq9_interval_days'"
                            ).fetchone() == ("10",)
        kept = conn.execute("SELECT entity, uuid, kind, losing_origin, loser_values, winner_values "
                            "FROM conflicts WHERE entity = 'setting'").fetchall()
    assert kept == [("setting", "phq9_interval_days", "edit", origin_of(chair_b), {"value": 14},
                     {"value": 10})]

    result = _pull(chair_b, hub)
    assert result.lost == ["phq9_interval_days"]
    assert _get(chair_b, "phq9_interval_days") == 10
    assert len(_audit_rows(chair_b, "hub_conflict_lost_setting")) == 1
    assert _pull(chair_b, hub).updated.get("settings", 0) == 0  # twice: nothing more

    said = subprocess.run([sys.executable, "main.py", "hub", "conflicts", "--hub", hub],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert said.returncode == 0, said.stderr
    assert "clinic setting phq9_interval_days" in said.stdout
    assert "the hub kept 10; not taken: 14" in said.stdout


def test_a_pull_never_overwrites_an_unpushed_edit_unseen(chair_a: Path, chair_b: Path, hub: str) -> None:
    _set(chair_a, "tol_angle_deg", 4.0)
    _push(chair_a, hub)
    _pull(chair_b, hub)  # B agrees on 4
    _set(chair_a, "tol_angle_deg", 6.0)
    _push(chair_a, hub)  # the hub moves on to 6
    _set(chair_b, "tol_angle_deg", 5.0)  # edited on B meanwhile, never pushed
    result = _pull(chair_b, hub)  # judged first: A's came first, B's is kept at the hub, then B shows 6
    assert result.lost == ["tol_angle_deg"]
    assert _get(chair_b, "tol_angle_deg") == 6.0
    with psycopg.connect(hub) as conn:
        assert conn.execute("SELECT loser_values, winner_values FROM conflicts WHERE entity = 'setting'"
                            ).fetchall() == [({"value": 5.0}, {"value": 6.0})]
