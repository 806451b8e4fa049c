"""A review station's link to the clinic hub: one connection to the hub and one to the station's own
database file, both used from one thread (console.ui.review.hub_worker runs jobs there).

The hub connection is made on first use and made again after it was lost, so a hub that restarts
or a network that comes back needs nothing from the person at the station but Refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import sqlite_utils

from db.database import connect
from db.hub.push import chair_origin, connect_hub, open_chair

log = logging.getLogger(__name__)

Job = Callable[[psycopg.Connection, sqlite_utils.Database], Any]


class HubStation:
    """Runs ``job(hub, station_db)``; not thread-safe: one thread uses it (the worker's)."""

    def __init__(self, conninfo: str, station_path: Path | str) -> None:
        self.conninfo = conninfo
        self.station_path = Path(station_path)
        self._hub: psycopg.Connection | None = None
        self._station: sqlite_utils.Database | None = None

    def run(self, job: Job) -> Any:
        if self._hub is None or self._hub.closed or self._hub.broken:
            self._hub = connect_hub(self.conninfo, advice="the list shows again once it answers")
        if self._station is None:
            self._station = connect(self.station_path)
        try:
            return job(self._hub, self._station)
        except psycopg.OperationalError:
            self._drop_hub()  # the next job connects again
            raise

    def _drop_hub(self) -> None:
        hub, self._hub = self._hub, None
        if hub is not None:
            try:
                hub.close()
            except Exception:  # closing a dead connection: nothing more to do
                log.debug("closing the hub connection failed", exc_info=True)

    def close(self) -> None:
        self._drop_hub()
        if self._station is not None:
            self._station.close()
            self._station = None


def station_id(db_path: Path | str) -> str:
    """The station's own chair id (what a sign-off made here names as its station)."""
    with open_chair(db_path) as chair:
        return chair_origin(chair) or "review-station"
