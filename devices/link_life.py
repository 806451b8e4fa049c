"""What every device link's life shares, whatever its vendor or wire: one place for it.

An adapter (devices.serial_adapter, the vendors' under devices/) opens once and closes once, may
write a private capture of its traffic, says "lost" once per loss (a ``DeviceLost`` for the
consumer, a warning in the log), waits longer between attempts to reconnect (doubling up to a
limit, returning at once when closing), and hands its events out of one queue, with its decoder's
counts. The subclass keeps its wire, its greeting and its read loop; it sets the attributes named
below in its ``__init__``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from devices import events as ev
from devices.adapter import DeviceError, EventQueue, LinkCounters

W = TypeVar("W")


class LinkLife:
    """Base of the device adapters: open/close guards, the capture file, loss and back-off, events."""

    _closed: bool
    _opened: bool
    _lost: bool
    _stop: threading.Event
    _queue: EventQueue
    _backoff: float
    _backoff_max: float
    _capture_path: Path | None
    _rx_lock: threading.Lock
    _receiver: Any
    """The wire's decoder: its received, rejected and missing counts and rejected lines."""

    def _may_open(self, what: str) -> bool:
        """False when the link is open already; DeviceError once it was closed (one use per adapter)."""
        if self._closed:
            raise DeviceError(f"The adapter for {what} was closed; create a new one.")
        return not self._opened

    def _open_capture(self, make: Callable[[Path], W], undo: Callable[[], None]) -> W | None:
        """The capture file the address asked for (None when none was), or DeviceError after ``undo``
        (closing the port just opened): a capture that cannot be written is said before recording."""
        if self._capture_path is None:
            return None
        try:
            return make(self._capture_path)
        except OSError as exc:
            undo()
            raise DeviceError(
                f"Cannot write the capture file {self._capture_path}: {exc.strerror or exc}."
            ) from exc

    def _say_lost(self, who: str, reason: str) -> None:
        """Once per loss: a warning naming ``who``, and DeviceLost for the consumer."""
        if self._lost:
            return
        self._lost = True
        logging.getLogger(type(self).__module__).warning("%s lost: %s", who, reason)
        self._queue.put([ev.DeviceLost(None, time.monotonic(), reason)])

    def _backed_off(self) -> bool:
        """Wait the back-off delay before a reconnection attempt, doubling it for the next one;
        False when the adapter is closing meanwhile."""
        if self._stop.wait(self._backoff):
            return False
        self._backoff = min(self._backoff * 2, self._backoff_max)
        return True

    def events(self, idle_timeout: float | None = None) -> Iterator[ev.DeviceEvent]:
        return self._queue.iterate(idle_timeout)

    def counters(self) -> LinkCounters:
        with self._rx_lock:
            r = self._receiver
            return LinkCounters(r.received, r.rejected, r.missing, tuple(r.rejected_lines))
