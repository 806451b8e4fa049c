"""The chair's push to the clinic's hub, in the background (issue 18).

When the clinic has set ``hub_url`` (a PostgreSQL address; a secret setting: it may hold a
password), a thread pushes this chair's ended sessions to the hub every :data:`INTERVAL_S`
seconds and when asked (:meth:`HubSync.push_now`, e.g. after a session ends). No pulse ever waits
on the network: recording writes to the chair's own file as always, and the push only reads that
file (db.hub.push never takes its write lock). With the network down, the chair records on and
says how long the hub has been out of reach; a chair offline for a week catches up on the next
push that reaches the hub.

The thread opens its own connection to the chair's file for each push (SQLite connections stay
in their thread); :meth:`HubSync.status` is what the window shows, read from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from console.clinic.settings import get_setting
from db.database import connect

log = logging.getLogger(__name__)

INTERVAL_S = 60.0
SETTING = "hub_url"


@dataclass(frozen=True)
class HubState:
    """What the chair knows of its pushes to the hub, for the window to show."""

    configured: bool = False
    pushing: bool = False
    last_ok_at: datetime | None = None
    sessions_pushed: int = 0  # by the last push that reached the hub
    problem: str | None = None  # the last push's failure, in one sentence (None: it reached the hub)
    problem_since: datetime | None = None

    def words(self) -> str:
        """One line for the window's header (empty when no hub is set up)."""
        if not self.configured:
            return ""
        if self.problem:
            since = self.problem_since.astimezone().strftime("%H:%M") if self.problem_since else "now"
            return f"Hub: out of reach since {since} (sessions kept here)"
        if self.pushing and self.last_ok_at is None:
            return "Hub: sending …"
        if self.last_ok_at is None:
            return "Hub: not sent yet"
        return f"Hub: sent {self.last_ok_at.astimezone().strftime('%H:%M')}"


def hub_configured(db: sqlite_utils.Database) -> bool:
    """Whether the clinic has set this chair's hub address."""
    return bool(str(get_setting(db, SETTING) or "").strip())


Push = Callable[[Path, str], int]
"""(chair file, hub address) -> sessions pushed; raises with one sentence when it cannot."""


def _exchange_with_db_hub(db_path: Path, conninfo: str) -> int:
    from console.sync.hub_exchange import exchange  # psycopg only when a hub is set up

    return exchange(db_path, conninfo).sessions_pushed


class HubSync:
    """Pushes in a daemon thread; ``start()`` once, ``stop()`` at exit (joins the thread)."""

    def __init__(self, db_path: Path | str, *, interval_s: float = INTERVAL_S,
                 push: Push | None = None) -> None:
        self.db_path = Path(db_path)
        self.interval_s = interval_s
        self._push = push or _exchange_with_db_hub
        self._state = HubState()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def status(self) -> HubState:
        with self._lock:
            return self._state

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)  # type: ignore[arg-type]

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hub-sync", daemon=True)
            self._thread.start()

    def push_now(self) -> None:
        """Push at once (a session just ended), not at the next interval."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _address(self) -> str:
        # A plain connection: the window opened (checked and migrated) the file at start; a
        # PRAGMA quick_check reads every page of a clinic-year file, not something to do every minute.
        db = connect(self.db_path)
        try:
            return str(get_setting(db, SETTING) or "").strip()
        finally:
            db.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.push_once()
            self._wake.wait(self.interval_s)
            self._wake.clear()

    def push_once(self) -> None:
        """One push, its outcome kept in :meth:`status` (never raises: a chair records on)."""
        try:
            conninfo = self._address()
        except Exception as exc:  # the chair's own file cannot be read: said, retried
            log.warning("hub address not read: %s", exc)
            return
        if not conninfo:
            self._set(configured=False, problem=None, problem_since=None)
            return
        self._set(configured=True, pushing=True)
        began = time.monotonic()
        try:
            pushed = self._push(self.db_path, conninfo)
        except Exception as exc:  # the hub out of reach, cut off, not set up: kept, retried
            now = datetime.now(UTC)
            with self._lock:
                since = self._state.problem_since or now
            self._set(pushing=False, problem=str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                      problem_since=since)
            log.info("hub push failed: %s", exc)
            return
        self._set(pushing=False, last_ok_at=datetime.now(UTC), sessions_pushed=pushed, problem=None,
                  problem_since=None)
        log.info("hub push: %d session(s) in %.1f s", pushed, time.monotonic() - began)
