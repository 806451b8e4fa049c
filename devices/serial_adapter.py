"""The TSCP/1 link to a device on a serial line (or pyserial's ``socket://``).

One reader thread owns the link: it decodes what the transport
(:mod:`devices.serial_port`) reads (:class:`~devices.tscp.Receiver`), hands
typed events to an unbounded queue (it never waits on the consumer), PINGs
every second, matches ACK/NAK to the commands waiting for them, and watches
the link. When the device falls silent or the port fails (a USB cable pulled,
a pty hung up) it reports :class:`~devices.events.DeviceLost`, keeps reopening
the same path with a short backoff, sends ``ID?`` and reports
:class:`~devices.events.DeviceRestored` once the same device answers again.

The port is injectable, as in pymeasure: pass a port path or URL, or an
already built ``serial.SerialBase``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO

import serial

from devices import events as ev
from devices.adapter import (
    COMMANDS,
    REASON_WORDS,
    CommandError,
    CommandRefused,
    CommandTimeout,
    CommandUnsupported,
    DeviceAdapter,
    DeviceError,
    EventQueue,
    split_url,
)
from devices.link_life import LinkLife
from devices.private_file import open_private
from devices.serial_port import SerialTransport, why
from devices.tscp import HOST_TO_DEVICE, SEQ_MOD, Receiver, encode_frame, format_field

log = logging.getLogger(__name__)


def command_fields(args: tuple[object, ...]) -> list[str]:
    """A command's arguments as TSCP/1 fields (the codec's one formatter); refused when unwritable."""
    fields = []
    for value in args:
        try:
            fields.append(format_field(value))
        except ValueError:
            message = f"{value!r} is not a value a device command can carry."
            raise CommandRefused(message, "BAD_VALUE") from None
    return fields


def _command_is_valid(name: str, fields: list[str]) -> bool:
    """Check a command against the TSCP/1 host -> device table before sending it."""
    for rx, _parse in HOST_TO_DEVICE[name]:
        if rx is None:
            if not fields:
                return True
            continue
        if fields and (m := rx.fullmatch(",".join(fields))) is not None:
            return _parse(m, 0.0) is not None
    return False


class _Waiter:
    """One command waiting for its ACK or NAK."""

    __slots__ = ("answer", "done", "failure")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer: ev.Ack | ev.Nak | None = None
        self.failure: str | None = None


class SerialAdapter(LinkLife, DeviceAdapter):
    """TSCP/1 over pyserial; see the module docstring for the link handling.

    ``open()`` returns once the device answered ``ID?`` with HELLO (so
    ``identity`` is known) or after ``hello_timeout`` seconds; a silent device
    is then reported by the link watch (DeviceLost after ``silence_timeout``).
    """

    def __init__(
        self,
        port: str | serial.SerialBase,
        *,
        baudrate: int = 115200,
        capture: str | Path | None = None,
        silence_timeout: float = 3.0,
        ping_interval: float = 1.0,
        read_timeout: float = 0.05,
        backoff_start: float = 0.05,
        backoff_max: float = 1.0,
        hello_timeout: float = 2.0,
        url: str | None = None,
    ) -> None:
        self._transport = SerialTransport(port, baudrate=baudrate, read_timeout=read_timeout)
        self._port_name = self._transport.name
        default = "tscp+" if self._port_name.startswith("socket://") else "tscp+serial://"
        self.url = url or default + self._port_name
        self.identity = None
        self._baudrate = baudrate
        self._capture_path = Path(capture) if capture is not None else None
        self._capture: IO[bytes] | None = None
        self._silence_timeout = silence_timeout
        self._ping_interval = ping_interval
        self._backoff_start = backoff_start
        self._backoff_max = backoff_max
        self._backoff = backoff_start
        self._hello_timeout = hello_timeout
        self._hello_seen = threading.Event()

        self._receiver = Receiver()
        self._rx_lock = threading.Lock()  # counters() reads what the reader writes
        self._write_lock = threading.Lock()  # port writes, host seq, closing the port
        self._host_seq = 0
        self._queue = EventQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._opened = False
        self._closed = False
        self._connected = False  # port open and believed alive (reader thread writes it)
        self._lost = False  # DeviceLost reported, DeviceRestored not yet
        self._greeting = False  # (re)connected: events held until the device says who it is
        self._greeting_deadline = 0.0
        self._held: list[ev.DeviceEvent] = []
        self._answered = False  # a frame arrived since the (re)connect
        self._unsupported: set[str] = set()
        self._waiters: dict[str, deque[_Waiter]] = {}
        self._waiters_lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------------------------------

    def _retarget(self, port: str) -> None:
        """Point the adapter, not yet opened, at ``port``: for a device whose address is known only
        once it runs (the simulator serving TCP on a port it picked)."""
        if self._opened:
            raise DeviceError(f"The adapter for {self._port_name} is open; it cannot change ports.")
        self._transport = SerialTransport(port, baudrate=self._baudrate,
                                          read_timeout=self._transport.read_timeout)
        self._port_name = port

    def open(self) -> None:
        if not self._may_open(self._port_name):
            return
        self._transport.open()
        # Raw device traffic names the patient's session: readable by its owner only.
        self._capture = self._open_capture(lambda path: open_private(path, "ab"), self._close_port)
        self._opened = True
        self._connected = True
        self._start_greeting()
        log.info("opened %s", self._port_name)
        self._send("ID?")
        self._thread = threading.Thread(target=self._run, name=f"tscp-reader {self._port_name}")
        self._thread.start()
        # callers record who the device is (identity) right after open(): give HELLO a moment
        if self._hello_timeout > 0 and not self._hello_seen.wait(self._hello_timeout):
            log.warning("no HELLO from %s within %g s; events will flow when the device answers",
                        self._port_name, self._hello_timeout)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._transport.cancel_read()
            self._thread.join()
        self._close_port()
        if self._capture is not None:
            self._capture.close()
        self._fail_waiters("the adapter was closed")
        self._queue.close()
        if self._opened:
            log.info("closed %s", self._port_name)

    # --- the consumer's side ---------------------------------------------------------------------

    def supports(self, command: str) -> bool:
        return command in COMMANDS and command not in self._unsupported

    def command(self, name: str, *args: object, timeout: float = 2.0) -> None:
        if name not in COMMANDS:
            raise CommandUnsupported(f"{name} is not a command the console can send to a device.")
        if name in self._unsupported:
            raise CommandUnsupported(f"The device does not support {name}.")
        fields = command_fields(args)
        shown = " ".join([name, *fields])
        if not _command_is_valid(name, fields):
            raise CommandRefused(f"{shown} is not a valid {name} command (a value is missing, "
                                 "extra or out of range).", "BAD_VALUE")
        waiter = _Waiter()
        with self._waiters_lock:
            self._waiters.setdefault(name, deque()).append(waiter)
        try:
            if not self._send(name, fields):
                raise CommandError(f"Cannot send {name}: the device is not connected.")
            answered = waiter.done.wait(timeout)
        finally:
            with self._waiters_lock:
                queue_ = self._waiters.get(name)
                if queue_ is not None and waiter in queue_:
                    queue_.remove(waiter)
        if not answered and not waiter.done.is_set():
            raise CommandTimeout(f"The device did not answer {name} within {timeout:g} s.")
        if waiter.failure is not None:
            raise CommandError(f"{name} got no answer: {waiter.failure}.")
        answer = waiter.answer
        if isinstance(answer, ev.Nak):
            if answer.reason == "UNSUPPORTED":
                self._unsupported.add(name)
                raise CommandUnsupported(f"The device does not support {name}.")
            raise CommandRefused(
                f"The device refused {shown}: {REASON_WORDS.get(answer.reason, answer.reason)}.",
                answer.reason,
            )
        log.debug("%s acknowledged", shown)

    # --- the reader thread -----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug must not leave the consumer waiting for ever
            log.exception("reader of %s stopped", self._port_name)
            self._link_down(f"the reader stopped on an internal error ({exc})")

    def _loop(self) -> None:
        now = time.monotonic()
        last_frame = last_ping = now
        while not self._stop.is_set():
            if not self._connected:
                if self._reconnect():
                    last_frame = last_ping = time.monotonic()
                continue
            data, error = self._transport.read_chunk()
            now = time.monotonic()
            if data and self._handle(data, now):
                last_frame = now
            if error is not None:
                if self._stop.is_set():
                    return
                self._link_down(f"the port was closed or unplugged ({why(error)})")
                continue
            if now - last_ping >= self._ping_interval:
                last_ping = now
                if self._capture is not None:
                    self._capture.flush()
                if not self._send("PING"):
                    self._link_down("the port failed while sending PING")
                    continue
                if self._greeting:
                    self._send("ID?")
            if self._greeting and self._answered and now >= self._greeting_deadline:
                log.warning("device on %s sends frames but did not say who it is", self._port_name)
                self._queue.put(self._end_greeting(now))
            if now - last_frame >= self._silence_timeout:
                self._link_down(f"no frame from the device for {self._silence_timeout:g} s")

    def _handle(self, data: bytes, now: float) -> bool:
        """Decode one chunk and queue its events; True when a frame was accepted."""
        if self._capture is not None:
            self._capture.write(data)
        with self._rx_lock:
            frames = self._receiver.feed(data, now)
        if not frames:
            return False
        self._answered = True
        # while greeting, events collect in _held (the same list object) until HELLO
        batch = self._held if self._greeting else []
        pong, ack, nak, hello = ev.Pong, ev.Ack, ev.Nak, ev.Hello
        for frame in frames:
            value = frame.value
            kind = type(value)
            if kind is pong:
                continue
            if kind is ack or kind is nak:
                self._answer(value)
                continue
            if kind is hello:
                if self._greeting and not same_device(self.identity, value):
                    self._wrong_device(value)
                    return False
                self.identity = value
                self._hello_seen.set()
                batch.append(value)
                if self._greeting:
                    batch = self._end_greeting(now)
                continue
            batch.append(value)
        if self._greeting and now >= self._greeting_deadline:
            batch = self._end_greeting(now)
        if not self._greeting:
            self._queue.put(batch)
        return True

    def _start_greeting(self) -> None:
        self._greeting = True
        self._greeting_deadline = time.monotonic() + self._hello_timeout
        self._held = []
        self._answered = False

    def _end_greeting(self, now: float) -> list[ev.DeviceEvent]:
        """The device answered: its held events, after DeviceRestored when it had been lost."""
        self._greeting = False
        self._backoff = self._backoff_start
        batch, self._held = self._held, []
        if self._lost:
            self._lost = False
            log.warning("device on %s answers again", self._port_name)
            batch.insert(0, ev.DeviceRestored(None, now))
        return batch

    def _wrong_device(self, hello: ev.Hello) -> None:
        """Another device answers where ours was: record nothing from it, keep looking for ours."""
        known = self.identity
        assert known is not None
        reason = (f"a different device answered on {self._port_name} ({hello.vendor} {hello.model}, "
                  f"serial {hello.serial}; expected serial {known.serial})")
        log.error("%s; nothing is recorded from it", reason)
        self._held = []
        self._link_down(reason)

    def _answer(self, answer: ev.Ack | ev.Nak) -> None:
        with self._waiters_lock:
            waiting = self._waiters.get(answer.command)
            waiter = waiting.popleft() if waiting else None
        if waiter is None:
            log.warning("%s for %s that nobody is waiting for (late or unasked)",
                        type(answer).__name__.upper(), answer.command)
            return
        waiter.answer = answer
        waiter.done.set()

    def _fail_waiters(self, why: str) -> None:
        with self._waiters_lock:
            waiters = [w for q in self._waiters.values() for w in q]
            self._waiters.clear()
        for waiter in waiters:
            waiter.failure = why
            waiter.done.set()

    def _send(self, type_: str, fields: list[str] | tuple[()] = ()) -> bool:
        """Write one host frame; False when the link is down (the reader notices and recovers)."""
        with self._write_lock:
            if not self._connected or not self._transport.write(encode_frame(self._host_seq, type_, fields)):
                return False
            self._host_seq = (self._host_seq + 1) % SEQ_MOD
            return True

    def _link_down(self, reason: str) -> None:
        """The link is gone: close the port, fail waiting commands, report DeviceLost once."""
        self._connected = False
        self._greeting = False
        self._held = []
        self._close_port()
        self._fail_waiters("the device was lost before it answered")
        self._say_lost(f"device on {self._port_name}", reason)

    def _reconnect(self) -> bool:
        """One attempt to reopen the same path, after the backoff delay."""
        if not self._backed_off():
            return False
        with self._write_lock:
            if not self._transport.reopen():
                return False
        with self._rx_lock:
            self._receiver.reset_sequence()
        with self._write_lock:
            self._connected = True
        self._start_greeting()
        log.info("reopened %s, asking the device who it is", self._port_name)
        if not self._send("ID?"):
            self._link_down("the port failed while sending ID?")
            return False
        return True

    def _close_port(self) -> None:
        with self._write_lock:
            self._transport.close()


def same_device(known: ev.Hello | None, hello: ev.Hello) -> bool:
    """Whether ``hello`` comes from the device we knew (vendor, model and serial number)."""
    if known is None:
        return True
    return (known.vendor, known.model, known.serial) == (hello.vendor, hello.model, hello.serial)


SERIAL_OPTIONS = ("baud", "capture")


def from_url(url: str) -> SerialAdapter:
    """``tscp+serial:///dev/ttyUSB0?baud=115200&capture=FILE``, ``serial://COM3``,
    ``tscp+socket://127.0.0.1:PORT``."""
    scheme, location, options = split_url(url, SERIAL_OPTIONS)
    if not location:
        raise DeviceError(f"The device address {url!r} names no port (e.g. {scheme}:///dev/ttyUSB0).")
    if scheme == "tscp+socket":
        location = f"socket://{location}"
    baud_text = options.get("baud", "115200")
    if not baud_text.isdigit() or int(baud_text) <= 0:
        raise DeviceError(f"The baud rate in {url!r} must be a positive whole number, not {baud_text!r}.")
    capture = options.get("capture") or None
    return SerialAdapter(location, baudrate=int(baud_text), capture=capture, url=url)


# mypy cannot type an attribute set on a function; registry._describe reads it (the plug-in convention)
from_url.description = (  # type: ignore[attr-defined]
    "TSCP/1 device on a serial port: tscp+serial:///dev/ttyUSB0?baud=115200[&capture=FILE]"
)
