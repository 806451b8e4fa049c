"""A chair keeps its own id in its database (migration core/0006_chair_identity: one row, made
once with the file, never changed) and pushes without ``--origin`` (issue 18)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.hub.compare import differences
from tests.hub.test_hub_cli import hub_cli


def _chair_id(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT origin FROM chair_identity").fetchone()[0])
    finally:
        conn.close()


def test_push_reads_the_chair_id_from_the_chair_database(chair_a: Path, hub: str) -> None:
    chair_id = _chair_id(chair_a)
    done = hub_cli("push", "--hub", hub, "--db", str(chair_a))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("pushed 8 session(s)")
    status = hub_cli("status", "--hub", hub, "--db", str(chair_a))
    assert f"chair {chair_id}: 8 session(s) at the hub" in status.stdout
    assert differences(chair_a, hub, chair_id) == {}


def test_the_chair_id_never_changes(chair_a: Path) -> None:
    conn = sqlite3.connect(chair_a)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="never changes"):
            conn.execute("UPDATE chair_identity SET origin = 'another'")
        with pytest.raises(sqlite3.DatabaseError, match="never changes"):
            conn.execute("DELETE FROM chair_identity")
    finally:
        conn.close()
