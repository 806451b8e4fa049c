"""The live plots' points of one session, kept in bounded memory.

A day of accelerated sessions is some 18,000 pulses and as many trace points
again; keeping every point for the whole run made the recorder grow by about
0.3 KB a pulse. The UI takes the points a few at a time (it asks for those
after the ones it has, ``series[n:]``, up to 30 times a second), so only the
recent points need to be exact: the last :data:`RECENT` are kept as they were,
older ones are thinned to at most :data:`HISTORY` evenly spaced points (the
spacing doubles whenever the history is full).

The contract of ``series[n:]`` holds whatever ``n`` is: it returns exactly
``len(series) - n`` points, in order, so a caller that counts what it took
stays in step. Points asked for after they were thinned away (a view that
attaches late in a long session) are filled with the nearest kept point
before them, which draws the same line as the kept points alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from console.session.snapshot import SeriesPoint

RECENT = 4096
"""Points kept exactly: minutes of a session, far more than the UI lags behind."""
HISTORY = 2048
"""At most this many thinned points of everything older."""


class PlotSeries:
    """Append-only plot points; ``len()`` counts every point ever appended."""

    def __init__(self, recent: int = RECENT, history: int = HISTORY) -> None:
        self._recent: deque[SeriesPoint] = deque()
        self._recent_cap = max(1, recent)
        self._history: list[tuple[int, SeriesPoint]] = []  # (index, point), every ``_stride``-th
        self._history_cap = max(2, history)
        self._stride = 1
        self._total = 0

    def __len__(self) -> int:
        return self._total

    @property
    def retained(self) -> int:
        """How many points are held in memory (bounded by RECENT + HISTORY)."""
        return len(self._recent) + len(self._history)

    def append(self, point: SeriesPoint) -> None:
        self._recent.append(point)
        self._total += 1
        if len(self._recent) > self._recent_cap:
            index = self._total - len(self._recent)  # the oldest recent point's index
            self._keep_in_history(index, self._recent.popleft())

    def _keep_in_history(self, index: int, point: SeriesPoint) -> None:
        if index % self._stride:
            return
        self._history.append((index, point))
        if len(self._history) > self._history_cap:
            self._stride *= 2
            self._history = [(i, p) for i, p in self._history if i % self._stride == 0]

    def __getitem__(self, key: slice) -> list[SeriesPoint]:
        """``series[n:]``: the points from index ``n`` on (see the module docstring)."""
        if not isinstance(key, slice) or key.step not in (None, 1) or key.stop is not None:
            raise TypeError("a plot series gives its points from an index on: series[n:]")
        start = 0 if key.start is None else key.start
        if start < 0:
            start = max(0, self._total + start)
        first_recent = self._total - len(self._recent)
        if start >= first_recent:
            return list(self._recent)[start - first_recent:]
        return self._held(start, first_recent) + list(self._recent)

    def _held(self, start: int, stop: int) -> list[SeriesPoint]:
        """Indices ``start`` to ``stop`` (exclusive) from the thinned history, one point each."""
        out: list[SeriesPoint] = []
        history = self._history
        if not history:  # nothing kept (cannot happen once a point has left the recent ones)
            return [self._recent[0]] * (stop - start) if self._recent else []
        k = 0
        while k + 1 < len(history) and history[k + 1][0] <= start:
            k += 1
        for index in range(start, stop):
            while k + 1 < len(history) and history[k + 1][0] <= index:
                k += 1
            out.append(history[k][1])
        return out

    def __iter__(self) -> Iterator[SeriesPoint]:
        return iter(self[0:])
