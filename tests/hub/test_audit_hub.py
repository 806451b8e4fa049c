"""``audit verify --hub``: each chair's audit chain as the hub holds it, walked as the chair's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from console.audit import audit
from db.database import connect, write_transaction
from db.hub.push import push_ended_sessions
from tests.hub.conftest import copy_db, origin_of

ROOT = Path(__file__).resolve().parents[2]


def verify(hub: str, chair: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", "audit", "verify", "--hub", hub, "--db", str(chair)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)




def _note(chair: Path, action: str) -> None:
    db = connect(chair)
    try:
        with write_transaction(db):
            audit(db, "admin", action, "setting", "clinic_name", None, {"value": action})
    finally:
        db.close()


def _push(chair: Path, hub: str) -> None:
    push_ended_sessions(chair, hub, origin=origin_of(chair))


def test_every_chairs_chain_holds_at_the_hub_and_a_row_changed_there_is_named(
        chair_a: Path, chair_b: Path, hub: str) -> None:
    _push(chair_a, hub)
    _push(chair_b, hub)
    ok = verify(hub, chair_a)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert sorted(line.split(":")[0] for line in ok.stdout.splitlines()) == sorted(
        f"ok chair {origin_of(c)}" for c in (chair_a, chair_b))

    with psycopg.connect(hub, autocommit=True) as conn:  # someone with the server's keys edits a row
        conn.execute("SET session_replication_role = replica")  # past the append-only triggers
        conn.execute("UPDATE audit_log SET actor = 'nobody' WHERE origin = %s AND id = 3",
                     (origin_of(chair_b),))
    broken = verify(hub, chair_a)
    assert broken.returncode == 1
    assert (f"BROKEN chair {origin_of(chair_b)} at row 3: row 3 was changed after it was written"
            in broken.stdout)
    assert f"ok chair {origin_of(chair_a)}" in broken.stdout


def test_a_chair_whose_history_differs_from_the_hubs_copy_is_named(chair_a: Path, hub: str,
                                                                   tmp_path: Path) -> None:
    old_copy = copy_db(chair_a, tmp_path / "restored-from-backup.db")  # same chair id, same rows so far
    _note(chair_a, "after the copy, on the chair")
    _note(old_copy, "after the copy, on the copy")
    _push(old_copy, hub)  # the copy pushed as this chair
    result = verify(hub, chair_a)
    assert result.returncode == 1
    assert "BROKEN this chair against the hub" in result.stdout
    assert "they hold different histories" in result.stdout
    assert verify(hub, old_copy).returncode == 0


def test_no_hub_reachable_is_one_line_and_exit_2(chair_a: Path) -> None:
    result = verify("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2", chair_a)
    assert result.returncode == 2
    assert "cannot be reached" in result.stderr and "Traceback" not in result.stderr
