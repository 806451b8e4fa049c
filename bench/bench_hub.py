"""Pushing to the clinic hub (PostgreSQL): one 10 Hz session, and a chair's month of catch-up.

Needs a PostgreSQL server (``TMS_BENCH_PG``, default the project's local one on 127.0.0.1:5432);
each run uses a new database on it and drops it after. The session is recorded the real way (the
demo's first 10 Hz session: 3000 pulses through a pty, the adapter, the runner and the writer); the
month is that chair's sessions copied under new uuids in the chair's file (as a recording would
write them: rows added while 'recording', then ended), so the catch-up pushes real-sized sessions.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from db.hub import schema
from db.hub.push import push_ended_sessions

ADMIN_URL = os.environ.get("TMS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MONTH_SESSIONS = 220  # a chair's month: about ten sessions a working day


def _chair(folder: Path) -> Path:
    from console.demo import PATIENTS, build_demo_database
    first = PATIENTS[0]
    one = dataclasses.replace(first, sessions=first.sessions[:1])  # one 10 Hz session, 3000 pulses
    path = folder / "chair.db"
    build_demo_database(path, patients=(one,))
    return path


def _copy_session(conn: sqlite3.Connection, source: int, n: int) -> None:
    """Session ``source`` again under a new uuid, written as a recording writes (rows, then ended)."""
    columns = [r[1] for r in conn.execute("PRAGMA table_info(sessions)")
               if r[1] not in ("id", "uuid", "status")]
    cur = conn.execute(f"INSERT INTO sessions (uuid, status, {', '.join(columns)}) "
                       f"SELECT ?, 'recording', {', '.join(columns)} FROM sessions WHERE id = ?",
                       (str(uuid.uuid4()), source))
    new = cur.lastrowid
    for table in ("pulses", "poses"):
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != "session_id"]
        conn.execute(f"INSERT INTO {table} (session_id, {', '.join(cols)}) "
                     f"SELECT ?, {', '.join(cols)} FROM {table} WHERE session_id = ?", (new, source))
    conn.execute("INSERT INTO session_events (session_id, at, device_t_ms, kind, code, detail, by_user) "
                 "SELECT ?, at, device_t_ms, kind, code, detail, by_user FROM session_events "
                 "WHERE session_id = ? ORDER BY id", (new, source))
    conn.execute("UPDATE sessions SET status = 'completed' WHERE id = ?", (new,))


def _month(chair: Path, sessions: int) -> None:
    conn = sqlite3.connect(chair, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for n in range(sessions):
            _copy_session(conn, 1, n)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _hub_db() -> tuple[str, str]:
    name = f"hubbench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}".encode())
    url = make_conninfo(ADMIN_URL, dbname=name)
    with psycopg.connect(url, autocommit=True) as conn:
        schema.init(conn)
    return name, url


def _drop(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


def main() -> dict[str, Any]:
    try:
        psycopg.connect(ADMIN_URL, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        print(f"hub: NOT RUN: no PostgreSQL server at {ADMIN_URL} ({exc})")
        return {"ok": False, "error": "no PostgreSQL server"}
    origin = str(uuid.uuid4())
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        chair = _chair(Path(tmp))
        name, url = _hub_db()
        try:
            one = push_ended_sessions(chair, url, origin=origin)
            figures["one_session_pulses"] = one.pulses
            figures["one_session_push_s"] = round(one.seconds, 3)
            started = time.perf_counter()
            nothing = push_ended_sessions(chair, url, origin=origin)
            figures["push_with_nothing_waiting_s"] = round(time.perf_counter() - started, 3)
            assert nothing.pushed == []
            _month(chair, MONTH_SESSIONS)
            month = push_ended_sessions(chair, url, origin=origin)
            figures["month_sessions"] = len(month.pushed)
            figures["month_pulses"] = month.pulses
            figures["month_push_s"] = round(month.seconds, 2)
            figures["month_pulses_per_s"] = round(month.pulses / month.seconds)
            started = time.perf_counter()
            push_ended_sessions(chair, url, origin=origin)
            figures["push_after_month_nothing_waiting_s"] = round(time.perf_counter() - started, 3)
        finally:
            _drop(name)
    # The review stations' queue on a clinic-year at the hub (issue 18's goal: < 200 ms).
    from bench import bench_hub_review

    review = bench_hub_review.main()
    figures.update({f"review_{key}": value for key, value in review.items() if key != "ok"})
    figures["ok"] = bool(review.get("ok"))
    for key, value in figures.items():
        print(f"hub: {key} = {value}")
    return figures


if __name__ == "__main__":
    main()
