"""One thread that talks to the clinic hub for a review station, so the window never waits on the network.

Every job runs on the same worker thread through one :class:`~console.review.hub_station.HubStation`
(its connection to the hub and to the station's file stay in that thread). A job's outcome comes
back to the GUI thread through a Qt signal, with the callback the caller gave.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from console.review.hub_station import HubStation, Job

Done = Callable[[Any, BaseException | None], None]


class _Relay(QObject):
    done = Signal(object, object)  # the Future, the callback for the GUI thread


class HubWorker(QObject):
    """Runs jobs ``job(hub_connection, station_db)`` one at a time off the GUI thread."""

    def __init__(self, conninfo: str, station_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._station = HubStation(conninfo, station_path)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-review")
        self._relay = _Relay(self)
        self._relay.done.connect(self._deliver)

    def submit(self, job: Job, done: Done) -> Future[Any]:
        """Run ``job`` on the worker; ``done(result, error)`` is then called on the GUI thread."""
        future = self._pool.submit(self._station.run, job)
        future.add_done_callback(lambda f: self._relay.done.emit(f, done))
        return future

    def _deliver(self, future: Future[Any], done: Done) -> None:
        error = future.exception()
        done(None if error is not None else future.result(), error)

    def close(self) -> None:
        """Let the job under way finish, then close the connections on the worker thread."""
        self._pool.submit(self._station.close)
        self._pool.shutdown(wait=True)
