"""``hub init|status|push`` as a technician runs them: counts, and one clear line when the hub is away."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import psycopg

from db.hub import schema
from tests.hub.test_push import ORIGIN_A

ROOT = Path(__file__).resolve().parents[2]


def hub_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.hub.run_cli", "hub", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns: nothing listens there


def test_init_makes_the_hub_and_running_it_again_changes_nothing(empty_hub: str) -> None:
    first = hub_cli("init", "--hub", empty_hub)
    assert first.returncode == 0 and f"set up: schema version {schema.SCHEMA_VERSION}" in first.stdout
    second = hub_cli("init", "--hub", empty_hub)
    assert second.returncode == 0 and "already up to date" in second.stdout
    with psycopg.connect(empty_hub) as conn:
        assert schema.version(conn) == schema.SCHEMA_VERSION


def test_status_then_push_then_status(chair_a: Path, hub: str) -> None:
    before = hub_cli("status", "--hub", hub, "--db", str(chair_a), "--origin", ORIGIN_A)
    assert before.returncode == 0, before.stderr
    assert "0 session(s) at the hub" in before.stdout and "8 waiting" in before.stdout
    pushed = hub_cli("push", "--hub", hub, "--db", str(chair_a), "--origin", ORIGIN_A)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.startswith("pushed 8 session(s)")
    after = hub_cli("status", "--hub", hub, "--db", str(chair_a), "--origin", ORIGIN_A)
    assert "8 session(s) at the hub" in after.stdout and "0 waiting" in after.stdout


def test_a_hub_that_cannot_be_reached_is_one_line_and_exit_2(chair_a: Path) -> None:
    away = f"postgresql://postgres@127.0.0.1:{_closed_port()}/hub"
    for args in (("push", "--hub", away, "--db", str(chair_a), "--origin", ORIGIN_A),
                 ("status", "--hub", away, "--db", str(chair_a), "--origin", ORIGIN_A),
                 ("init", "--hub", away)):
        done = hub_cli(*args)
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1 and "cannot be reached" in done.stderr
        assert "Traceback" not in done.stderr


def test_a_hub_not_set_up_says_to_run_init(chair_a: Path, empty_hub: str) -> None:
    done = hub_cli("push", "--hub", empty_hub, "--db", str(chair_a), "--origin", ORIGIN_A)
    assert done.returncode == 2 and "run `hub init` first" in done.stderr


def test_a_chair_without_an_id_is_asked_for_one(chair_a: Path, hub: str) -> None:
    import sqlite3

    conn = sqlite3.connect(chair_a)  # a file whose id table is gone (every file gets one when made)
    conn.execute("DROP TABLE chair_identity")
    conn.commit()
    conn.close()
    done = hub_cli("push", "--hub", hub, "--db", str(chair_a))
    assert done.returncode == 1 and "--origin" in done.stderr
    bad = hub_cli("push", "--hub", hub, "--db", str(chair_a), "--origin", "chair-1")
    assert bad.returncode == 1 and "is not a chair id" in bad.stderr
