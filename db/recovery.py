"""Finding sessions a crash left behind, at start-up.

A session still in ``recording`` whose lock nobody holds stopped without
ending: the program, the computer or the power went away. It is marked
``interrupted`` with everything it recorded kept, and its end time is the
last sign of life it left (the recorder's heartbeat or its last event), not
the time we found it. A session whose lock is held is being recorded by a
live process and is never touched.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

import sqlite_utils

from db.database import utc_now
from db.session_lock import SessionLock

log = logging.getLogger(__name__)

INTERRUPTED_REASON = "recording stopped unexpectedly (the program or the computer stopped)"


def _last_evidence(db: sqlite_utils.Database, session: dict) -> str:
    last_event = db.execute(
        "SELECT max(at) FROM session_events WHERE session_id = ?", [session["id"]]
    ).fetchone()[0]
    # All times share one ISO-8601 UTC format, so the text maximum is the latest.
    return max(t for t in (session["started_at"], session["heartbeat_at"], last_event) if t)


def _seconds_between(start: str, end: str) -> float | None:
    try:
        return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
    except ValueError:
        return None


def _mark(db: sqlite_utils.Database, session: dict) -> bool:
    """Mark one session interrupted in one transaction; False if it had already left recording."""
    session_id = session["id"]
    with db.atomic():
        ended_at = _last_evidence(db, session)
        recorded, highest = db.execute(
            "SELECT count(*), max(count) FROM pulses WHERE session_id = ?", [session_id]
        ).fetchone()
        # The counters in the row lag the recorder by up to a heartbeat: the pulse rows are the truth.
        cur = db.execute(
            """UPDATE sessions SET status = 'interrupted', end_reason = ?, ended_at = ?,
                   duration_s = ?, pulses_recorded = ?,
                   pulses_delivered = max(pulses_delivered, ?)
               WHERE id = ? AND status = 'recording'""",
            [INTERRUPTED_REASON, ended_at, _seconds_between(session["started_at"], ended_at),
             recorded, highest or 0, session_id],
        )
        if cur.rowcount == 0:
            return False
        detail = {
            "message": "No program was recording this session when it was found at start-up; "
                       "everything recorded up to the last sign of recording is kept.",
            "last_evidence_at": ended_at,
            "recorder_pid": session["recorder_pid"],
            "recorder_host": session["recorder_host"],
            "pulses_recorded": recorded,
        }
        db.execute(
            "INSERT INTO session_events (session_id, at, kind, detail) VALUES (?, ?, 'interrupted', ?)",
            [session_id, utc_now(), json.dumps(detail)],
        )
    return True


def mark_interrupted_sessions(db: sqlite_utils.Database, db_path: Path | str) -> list[int]:
    """Mark every abandoned ``recording`` session ``interrupted``; returns their ids.

    Holding the session's lock while marking it makes the check and the change
    one step: a live recorder holds that lock, so it can never be marked.
    """
    marked: list[int] = []
    sessions = list(db.query(
        "SELECT id, started_at, heartbeat_at, recorder_pid, recorder_host "
        "FROM sessions WHERE status = 'recording' ORDER BY id"
    ))
    for session in sessions:
        lock = SessionLock(db_path, session["id"])
        if not lock.try_acquire():
            log.info("session %s is being recorded by a live process; left alone", session["id"])
            continue
        try:
            if _mark(db, session):
                marked.append(session["id"])
                # INFO: the caller gets the ids and tells the person once, in its own words.
                log.info("session %s was left recording (a crash?); marked interrupted", session["id"])
        finally:
            lock.release()
    return marked
