"""The device adapter interface every source of device events implements.

The recorder, the live view and the CLI code against :class:`DeviceAdapter`
only, so a TSCP device on a serial port, a replayed capture, the simulator or
a vendor stimulator are interchangeable. The event stream is an *iterator*
(``for event in adapter.events(idle_timeout=0.2)``) everywhere: the consumer
pulls at its own pace, and the adapter's reader thread never waits on it.

Errors are :class:`DeviceError` subclasses whose message is one sentence a
technician can read; the UI shows ``str(error)`` as it is.
"""

from __future__ import annotations

import logging
import queue
import re
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from devices.events import DeviceEvent, Hello

log = logging.getLogger(__name__)

COMMANDS = ("LOAD", "SET", "START", "PAUSE", "RESUME", "STOP")
"""Commands an adapter may offer (TSCP/1 host -> device, without the link-level ID? and PING)."""

REASON_WORDS = {
    "BAD_STATE": "it is not possible in the device's current state",
    "BAD_VALUE": "a value is out of range or malformed",
    "UNSUPPORTED": "the device does not offer it",
}


class DeviceError(Exception):
    """A device problem, worded as one clear sentence for a person."""


class CommandError(DeviceError):
    """A command could not be carried out."""


class CommandUnsupported(CommandError):
    """The adapter or the device does not offer this command (NAK UNSUPPORTED)."""


class CommandRefused(CommandError):
    """The device refused the command (NAK BAD_STATE or BAD_VALUE)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class CommandTimeout(CommandError):
    """The device answered neither ACK nor NAK in time."""


class LinkCounters(NamedTuple):
    """Frames accepted, rejected and missing (TSCP.md receiver rule), with the
    raw bytes of the last rejected pieces for diagnosis."""

    received: int
    rejected: int
    missing: int
    rejected_lines: tuple[bytes, ...]


class DeviceAdapter(ABC):
    """One connection to one device.

    Lifecycle: ``create_adapter(url)`` -> :meth:`open` -> iterate
    :meth:`events` (one consumer thread) and optionally :meth:`command` from
    any thread -> :meth:`close`. ``identity`` is the last HELLO seen.
    """

    url: str
    identity: Hello | None = None
    observes_pulses: bool = True
    """False when the device cannot report each pulse (a Magstim fired from its front panel or a
    trigger line): the session then says "pulses not observed", never zero pulses."""
    sends_end_of_session: bool = True
    """False for a device that never says its run ended (MagVenture, Magstim): the console then
    ends the session when the protocol's last train has ended with every planned pulse."""
    exhausted: bool = False
    """True once a finite source (a replayed capture) has given its last event: no more will come,
    so the session ends there (a live device's stream never runs out)."""

    @abstractmethod
    def open(self) -> None:
        """Connect; raise :class:`DeviceError` ("Cannot open ...: ...") when unreachable."""

    @abstractmethod
    def close(self) -> None:
        """Disconnect and join every thread the adapter started; safe to call twice."""

    @abstractmethod
    def events(self, idle_timeout: float | None = None) -> Iterator[DeviceEvent]:
        """Yield events in arrival order.

        Returns when the adapter is closed, when a finite source (a replay) is
        exhausted, or when no event arrived within ``idle_timeout`` seconds, so
        the consumer can do periodic work and call again. Events not yet taken
        when the consumer stops iterating are kept for the next call.
        """

    @abstractmethod
    def counters(self) -> LinkCounters:
        """Frame counters of the link since :meth:`open` (kept across reconnects)."""

    def supports(self, command: str) -> bool:
        """Whether :meth:`command` may work for ``command`` (one of COMMANDS)."""
        return False

    def command(self, name: str, *args: object, timeout: float = 2.0) -> None:
        """Send a command and return on ACK.

        Raises :class:`CommandUnsupported`, :class:`CommandRefused` or
        :class:`CommandTimeout`. Adapters of recording-only devices keep this
        default.
        """
        raise CommandUnsupported(f"This device adapter cannot send commands ({name} was asked).")

    def __enter__(self) -> DeviceAdapter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventQueue:
    """Hands batches of events from a producer thread to one consumer.

    Unbounded (the producer never waits), batched (one queue operation per
    read chunk, not per frame: a serial line at full speed carries tens of
    thousands of frames a second), and lossless when the consumer stops in the
    middle of a batch: the rest stays in ``_pending`` for the next call.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[list[DeviceEvent] | None] = queue.SimpleQueue()  # None: closed
        self._pending: deque[DeviceEvent] = deque()
        self.closed = False

    def put(self, batch: list[DeviceEvent]) -> None:
        if batch:
            self._queue.put(batch)

    def close(self) -> None:
        """Wake the consumer; it sees what was queued before, then the end."""
        self.closed = True
        self._queue.put(None)

    def iterate(self, idle_timeout: float | None) -> Iterator[DeviceEvent]:
        pending = self._pending
        get = self._queue.get
        while True:
            while pending:
                yield pending.popleft()
            try:
                batch = get(timeout=idle_timeout)
            except queue.Empty:
                return
            if batch is None:
                self._queue.put(None)  # later calls end at once too
                return
            pending.extend(batch)


SECRET_OPTIONS = ("unlock",)
"""Address options that hold a secret (a Magstim Rapid's unlock code): never shown, logged,
remembered or stored as typed (issue 16)."""
_SECRET_VALUE = re.compile(r"(?<=[?&](?:" + "|".join(SECRET_OPTIONS) + r")=)[^&#'\"\s]+")


def redact_url(text: str) -> str:
    """``text`` (an address, or a message quoting one) with every secret option's value as ``***``."""
    return _SECRET_VALUE.sub("***", text)


def split_url(url: str, options: tuple[str, ...]) -> tuple[str, str, dict[str, str]]:
    """``scheme://LOCATION?opt=value`` -> (scheme, location, options).

    The location is everything between ``://`` and ``?`` (a path such as
    ``/dev/ttyUSB0``, ``COM3``, ``127.0.0.1:5000`` or ``captures/a.tscp``).
    An option not in ``options`` is a :class:`DeviceError` naming the known
    ones, so a typo in an address never goes unnoticed.
    """
    parts = urlsplit(url)
    if not parts.scheme or "://" not in url:
        raise DeviceError(f"{url!r} is not a device address: expected scheme://location, e.g. "
                          "tscp+serial:///dev/ttyUSB0.")
    location = unquote(parts.netloc + parts.path)
    found: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in options:
            known = ", ".join(options) or "none"
            raise DeviceError(f"Unknown option {key!r} in device address {url!r} (known options: {known}).")
        found[key] = value
    return parts.scheme.lower(), location, found


def parse_flag(url: str, key: str, value: str) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off``, else a clear :class:`DeviceError`."""
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on", ""):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise DeviceError(f"Option {key}={value!r} in {url!r} must be 1 or 0.")
