"""A push cut in the middle of a session leaves the hub without that session; the next push completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psycopg

from db.hub.push import HubError, push_ended_sessions
from tests.hub.compare import count, differences
from tests.hub.cut import PulseGate
from tests.hub.test_push import ORIGIN_A

ROOT = Path(__file__).resolve().parents[2]


def _whole_sessions_only(chair: Path, hub: str) -> int:
    """Every session at the hub has all its pulses, poses and events; returns how many there are."""
    import sqlite3
    with psycopg.connect(hub) as conn:
        held = conn.execute(
            "SELECT s.uuid, (SELECT count(*) FROM pulses p WHERE p.session_uuid = s.uuid), "
            "(SELECT count(*) FROM poses p WHERE p.session_uuid = s.uuid), "
            "(SELECT count(*) FROM session_events e WHERE e.session_uuid = s.uuid) "
            "FROM sessions s").fetchall()
    db = sqlite3.connect(chair)
    try:
        for uuid, pulses, poses, events in held:
            sid = db.execute("SELECT id FROM sessions WHERE uuid = ?", (uuid,)).fetchone()[0]
            expected = tuple(
                db.execute(f"SELECT count(*) FROM {t} WHERE session_id = ?", (sid,)).fetchone()[0]
                for t in ("pulses", "poses", "session_events"))
            assert (pulses, poses, events) == expected, f"session {uuid} is at the hub in part"
    finally:
        db.close()
    return len(held)


def test_hub_closing_the_connection_during_a_session_then_the_next_push_completes(chair_a: Path,
                                                                                   hub: str) -> None:
    gate = PulseGate(hub, nth=3)  # sessions 1 and 2 go whole; the 3rd is cut after its COPY
    failure: list[BaseException] = []

    def push() -> None:
        try:
            push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
        except BaseException as exc:  # the thread hands it to the test
            failure.append(exc)

    pusher = threading.Thread(target=push)
    pusher.start()
    try:
        gate.terminate(gate.wait_for_push())
    finally:
        pusher.join(timeout=120)
        gate.open()
    assert len(failure) == 1 and isinstance(failure[0], HubError)
    assert "lost after 2 session(s)" in str(failure[0])
    assert _whole_sessions_only(chair_a, hub) == 2

    again = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert len(again.pushed) == 6 and again.already_at_hub == 2
    assert differences(chair_a, hub, ORIGIN_A) == {}


def test_push_process_killed_during_a_session_then_the_next_push_completes(chair_a: Path, hub: str) -> None:
    gate = PulseGate(hub, nth=5)
    proc = subprocess.Popen([sys.executable, "-m", "tests.hub.run_cli", "hub", "push", "--hub", hub,
                             "--db", str(chair_a), "--origin", ORIGIN_A], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        gate.wait_for_push()
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        gate.open()  # the orphaned hub backend finishes its statement, finds its client gone, rolls back
    again = push_ended_sessions(chair_a, hub, origin=ORIGIN_A)
    assert again.already_at_hub == 4 and len(again.pushed) == 4
    assert differences(chair_a, hub, ORIGIN_A) == {}
    assert count(hub, "sessions") == 8
