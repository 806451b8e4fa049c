"""Play back a capture file (``?capture=FILE`` of the serial adapter) as device events.

A capture is the raw bytes the console received, so replaying it runs the very
same receiver: the events and the rejected/missing counts are those of the
live session. It serves as-fast-as-possible analysis and tests, or, with
``?realtime=1``, a demo paced by the device's own clock.

No thread: :meth:`ReplayAdapter.events` reads the file as the consumer pulls,
so a slow consumer holds back the file instead of filling memory.

A vendor's capture (issue 16: MagVenture, Magstim) starts with the line
``TMSCAP1 <vendor>``; that vendor's package reads the rest (its ``capture.CaptureReader``: the
bytes of both directions, since a vendor's replies only make sense with the command they
answer), with the same counters. A file without that line is TSCP.

A capture is finite, and may stop anywhere (a run cut short, a capture taken
without the device's end of session): once its last event has been taken,
``exhausted`` says so, and the session ends there instead of waiting for a
device that will never send more. A file with no device events at all is refused
at :meth:`ReplayAdapter.open`, before a session is created for it.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from devices import events as ev
from devices.adapter import (
    CommandUnsupported,
    DeviceAdapter,
    DeviceError,
    LinkCounters,
    parse_flag,
    split_url,
)
from devices.tscp import Receiver

log = logging.getLogger(__name__)

CHUNK = 65536
CAPTURE_HEADER = b"TMSCAP1 "
VENDOR_CAPTURES = {"magventure": "devices.magventure.capture", "magstim": "devices.magstim.capture",
                   "ndi": "devices.ndi.capture", "localite": "devices.localite.capture"}
"""The vendor named on a capture's first line -> the module whose ``CaptureReader`` plays it."""


class _TscpFrames:
    """The TSCP receiver as a capture reader: bytes in, device events out (link-level replies dropped)."""

    def __init__(self) -> None:
        self.receiver = Receiver()

    def feed(self, data: bytes) -> list[ev.DeviceEvent]:
        skip = (ev.Pong, ev.Ack, ev.Nak)
        return [f.value for f in self.receiver.feed(data) if type(f.value) not in skip]

    @property
    def received(self) -> int:
        return self.receiver.received

    @property
    def rejected(self) -> int:
        return self.receiver.rejected

    @property
    def missing(self) -> int:
        return self.receiver.missing

    @property
    def rejected_lines(self) -> Any:
        return self.receiver.rejected_lines


def _reader_for(first: bytes, path: Path) -> Any:
    """The reader of a capture whose first bytes are ``first`` (TSCP unless it names a vendor)."""
    if not first.startswith(CAPTURE_HEADER):
        return _TscpFrames()
    vendor = first[len(CAPTURE_HEADER):].split(b"\n", 1)[0].strip().decode("ascii", "replace")
    module = VENDOR_CAPTURES.get(vendor)
    if module is None:
        raise DeviceError(f"The capture file {path} is of an unknown kind of device ({vendor!r}); known: "
                          + ", ".join(VENDOR_CAPTURES) + ".")
    return importlib.import_module(module).CaptureReader()


class ReplayAdapter(DeviceAdapter):
    """Events from a capture file; ``events()`` ends at the end of the file."""

    def __init__(self, path: str | Path, *, realtime: bool = False, url: str | None = None) -> None:
        self.path = Path(path)
        self.url = url or f"replay://{self.path}"
        self.identity = None
        self.realtime = realtime
        self._receiver: Any = _TscpFrames()
        self._file: IO[bytes] | None = None
        self._pending: deque[ev.DeviceEvent] = deque()
        self._lock = threading.Lock()  # the file and the receiver, against close() from elsewhere
        self._closed = threading.Event()
        self._at_end = False
        self._anchor: tuple[float, int] | None = None  # (host time, device ms) for realtime pacing

    def open(self) -> None:
        if self._file is not None:
            return
        if self._closed.is_set():
            raise DeviceError(f"The replay of {self.path} was closed; create a new one.")
        try:
            self._file = self.path.open("rb")
        except OSError as exc:
            raise DeviceError(f"Cannot open the capture file {self.path}: {exc.strerror or exc}.") from exc
        try:
            first = self._file.readline(256)
            self._receiver = _reader_for(first, self.path)
        except BaseException:
            self._file.close()
            self._file = None
            raise
        if not first.startswith(CAPTURE_HEADER):
            self._file.seek(0)  # a TSCP capture has no header: its first line is a frame
        log.info("replaying %s%s", self.path, " in real time" if self.realtime else "")
        # the first events: identity is known once open() returns, as for a live link
        if not self._read_more():
            with self._lock:
                self._file.close()
            self._file = None
            empty = self._receiver.received == 0 and self._receiver.rejected == 0
            raise DeviceError(f"The capture file {self.path} holds no device events"
                              + (" (it is empty)." if empty else " (no frames a device sends)."))

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            if self._file is not None:
                self._file.close()

    def counters(self) -> LinkCounters:
        with self._lock:
            r = self._receiver
            return LinkCounters(r.received, r.rejected, r.missing, tuple(r.rejected_lines))

    def command(self, name: str, *args: object, timeout: float = 2.0) -> None:
        raise CommandUnsupported(f"A replayed capture cannot take commands ({name} was asked).")

    def events(self, idle_timeout: float | None = None) -> Iterator[ev.DeviceEvent]:
        if self._file is None and not self._closed.is_set():
            raise DeviceError(f"The replay of {self.path} is not open.")
        pending = self._pending
        while not self._closed.is_set():
            if not pending and not self._read_more():
                # A finite source: every event is taken (the consumer asked for the next one, so it
                # is done with the last). End here, but let a periodic consumer idle, not spin.
                if self._at_end and not self.exhausted:
                    self.exhausted = True
                    log.info("every event of %s has been played", self.path)
                if idle_timeout is not None:
                    self._closed.wait(idle_timeout)
                return
            if self.realtime:
                delay = self._delay(pending[0])
                if delay > 0:
                    if idle_timeout is not None and delay > idle_timeout:
                        self._closed.wait(idle_timeout)
                        return
                    if self._closed.wait(delay):
                        return
                event = pending.popleft()
                yield event._replace(host_t=time.monotonic())
            else:
                yield pending.popleft()

    def _read_more(self) -> bool:
        """Decode the next chunk into ``_pending``; False at the end of the file."""
        while not self._at_end:
            with self._lock:
                if self._file is None or self._file.closed:
                    return False
                data = self._file.read(CHUNK)
                if not data:
                    self._at_end = True
                    log.info("end of %s", self.path)
                    return False
                found = self._receiver.feed(data)
            hello = ev.Hello
            for value in found:
                if type(value) is hello:
                    self.identity = value
                self._pending.append(value)
            if self._pending:
                return True
        return False

    def _delay(self, event: ev.DeviceEvent) -> float:
        """Seconds until ``event`` is due by device time (0 for events without one)."""
        device_t = event.device_t
        if device_t is None:
            return 0.0
        now = time.monotonic()
        anchor = self._anchor
        if anchor is None or device_t < anchor[1]:
            # first timed event, or the device restarted (its clock went back)
            self._anchor = (now, device_t)
            return 0.0
        return anchor[0] + (device_t - anchor[1]) / 1000.0 - now


def from_url(url: str) -> ReplayAdapter:
    """``replay://FILE`` (as fast as possible) or ``replay://FILE?realtime=1``."""
    _scheme, location, options = split_url(url, ("realtime",))
    if not location:
        raise DeviceError(f"The replay address {url!r} names no file (e.g. replay:///path/to/capture.tscp).")
    realtime = parse_flag(url, "realtime", options["realtime"]) if "realtime" in options else False
    return ReplayAdapter(location, realtime=realtime, url=url)


# mypy cannot type an attribute set on a function; registry._describe reads it (the plug-in convention)
from_url.description = (  # type: ignore[attr-defined]
    "play back a capture file: replay://FILE[?realtime=1]"
)
