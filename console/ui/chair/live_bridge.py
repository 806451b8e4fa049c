"""The one link from a running session to the widgets.

A QTimer in the GUI thread pulls ``runner.snapshot()`` (and the plot points
added since the last pull) at most 30 times a second, and emits one coalesced
``updated`` signal. The runner's threads never touch Qt and never emit a signal
per device frame; the widgets never call the runner from a paint.
"""

from __future__ import annotations

import logging
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from console.session.snapshot import LiveSnapshot, SeriesPoint

log = logging.getLogger(__name__)

MAX_HZ = 30


class LiveSource(Protocol):
    """What the bridge needs from a session runner."""

    def snapshot(self) -> LiveSnapshot: ...

    def series_since(self, n: int) -> list[SeriesPoint]: ...


class LiveBridge(QObject):
    """Pulls snapshots on a timer in the GUI thread; emits ``updated(snapshot, new_points)``."""

    updated = Signal(object, object)  # LiveSnapshot, list[SeriesPoint]

    def __init__(self, parent: QObject | None = None, hz: float = MAX_HZ) -> None:
        super().__init__(parent)
        self._source: LiveSource | None = None
        self._series_count = 0
        self._last: LiveSnapshot | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(1000 / min(hz, MAX_HZ))))
        self._timer.timeout.connect(self.tick)
        self.frames = 0  # updates emitted, for the benchmark and for tests

    @property
    def source(self) -> LiveSource | None:
        return self._source

    @property
    def last(self) -> LiveSnapshot | None:
        return self._last

    def attach(self, source: LiveSource, series_count: int = 0) -> None:
        """Follow ``source``; ``series_count`` is how many points the plots already hold."""
        self._source = source
        self._series_count = series_count
        self._last = None
        if not self._timer.isActive():
            self._timer.start()

    def detach(self) -> None:
        """Stop following; a last tick first, so the screen shows the final state."""
        if self._source is not None:
            self.tick()
        self._timer.stop()
        self._source = None

    def stop(self) -> None:
        self._timer.stop()

    def tick(self) -> None:
        """One pull: emit once if the snapshot changed or new points arrived."""
        source = self._source
        if source is None:
            return
        try:
            snap = source.snapshot()
            points: list[SeriesPoint] = []
            if snap.series_len > self._series_count:
                points = source.series_since(self._series_count)
                self._series_count += len(points)
        except Exception:  # a broken source must not take the screen down with it
            log.exception("live snapshot failed")
            return
        if points or snap != self._last:
            self._last = snap
            self.frames += 1
            self.updated.emit(snap, points)
