"""A TSCP/1 device on a serial line (or pyserial's ``socket://``), through pyserial.

One reader thread owns the port: it reads in big chunks, decodes in place
(:class:`~devices.tscp.Receiver`), hands typed events to an unbounded queue
(it never waits on the consumer), PINGs every second, and watches the link.
When the device falls silent or the port fails (a USB cable pulled, a pty hung
up) it reports :class:`~devices.events.DeviceLost`, keeps reopening the same
path with a short backoff, sends ``ID?`` and reports
:class:`~devices.events.DeviceRestored` once the device answers again.

The transport is injectable, as in pymeasure: pass a port path or URL, or an
already built ``serial.SerialBase``.
"""

from __future__ import annotations

import logging
import math
import os
import re
import termios
import threading
import time
from collections import deque
from collections.abc import Iterator
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
    LinkCounters,
    split_url,
)
from devices.tscp import HOST_TO_DEVICE, SEQ_MOD, Receiver, encode_frame

log = logging.getLogger(__name__)

# After a Linux pty hang-up pyserial raises SerialException on read, OSError on
# in_waiting and termios.error on reset_input_buffer (is_open stays True).
SOCKET_CHUNK = 65536
PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)


def format_field(value: object) -> str:
    """A command argument as TSCP/1 writes it: integers as is, decimals without exponent."""
    if isinstance(value, bool):
        raise CommandRefused(f"{value!r} is not a value a device command can carry.", "BAD_VALUE")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CommandRefused(f"{value!r} is not a value a device command can carry.", "BAD_VALUE")
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return str(value)


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


class SerialAdapter(DeviceAdapter):
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
        if isinstance(port, str):
            self._port: serial.SerialBase | None = None
            self._port_name = port
        else:
            self._port = port
            self._port_name = str(port.port)
        default = "tscp+" if self._port_name.startswith("socket://") else "tscp+serial://"
        self.url = url or default + self._port_name
        self.identity = None
        self._baudrate = baudrate
        self._capture_path = Path(capture) if capture is not None else None
        self._capture: IO[bytes] | None = None
        self._silence_timeout = silence_timeout
        self._ping_interval = ping_interval
        self._read_timeout = read_timeout
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
        self._pty_node: tuple[int, int] | None = None
        self._gone_for_good = False
        self._unsupported: set[str] = set()
        self._waiters: dict[str, deque[_Waiter]] = {}
        self._waiters_lock = threading.Lock()
        self._socket = False  # a socket:// transport (in_waiting says only "something")

    # --- lifecycle -------------------------------------------------------------------------------

    def open(self) -> None:
        if self._closed:
            raise DeviceError(f"The adapter for {self._port_name} was closed; create a new one.")
        if self._opened:
            return
        try:
            if self._port is None:
                # exclusive: a second console (or adapter) on the same port would steal frames
                self._port = serial.serial_for_url(
                    self._port_name, baudrate=self._baudrate, timeout=self._read_timeout,
                    write_timeout=1.0, exclusive=True, do_not_open=True,
                )
            else:
                # the reader must wake up to PING and to notice close(); a write must never hang it
                self._port.timeout = self._read_timeout
                self._port.write_timeout = 1.0
            if not self._port.is_open:
                self._port.open()
        except (*PORT_ERRORS, ValueError) as exc:
            raise DeviceError(f"Cannot open {self._port_name}: {_why(exc)}.") from exc
        if self._capture_path is not None:
            try:
                self._capture = self._capture_path.open("ab")
            except OSError as exc:
                self._close_port()
                raise DeviceError(
                    f"Cannot write the capture file {self._capture_path}: {exc.strerror or exc}."
                ) from exc
        self._socket = type(self._port).__module__.endswith("protocol_socket")
        self._pty_node = pty_node(self._port_name)
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
            port = self._port
            try:
                if port is not None and port.is_open:
                    port.cancel_read()
            except (*PORT_ERRORS, AttributeError, NotImplementedError):
                pass
            self._thread.join()
        self._close_port()
        if self._capture is not None:
            self._capture.close()
        self._fail_waiters("the adapter was closed")
        self._queue.close()
        if self._opened:
            log.info("closed %s", self._port_name)

    # --- the consumer's side ---------------------------------------------------------------------

    def events(self, idle_timeout: float | None = None) -> Iterator[ev.DeviceEvent]:
        return self._queue.iterate(idle_timeout)

    def counters(self) -> LinkCounters:
        with self._rx_lock:
            r = self._receiver
            return LinkCounters(r.received, r.rejected, r.missing, tuple(r.rejected_lines))

    def supports(self, command: str) -> bool:
        return command in COMMANDS and command not in self._unsupported

    def command(self, name: str, *args: object, timeout: float = 2.0) -> None:
        if name not in COMMANDS:
            raise CommandUnsupported(f"{name} is not a command the console can send to a device.")
        if name in self._unsupported:
            raise CommandUnsupported(f"The device does not support {name}.")
        fields = [format_field(a) for a in args]
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
            port = self._port
            assert port is not None
            data, error = self._read_chunk(port)
            now = time.monotonic()
            if data and self._handle(data, now):
                last_frame = now
            if error is not None:
                if self._stop.is_set():
                    return
                self._link_down(f"the port was closed or unplugged ({_why(error)})")
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

    def _read_chunk(self, port: serial.SerialBase) -> tuple[bytes, BaseException | None]:
        """Everything available now (waiting up to ``read_timeout`` for the first byte).

        Big chunks keep the cost per frame low. Bytes read before a failure are
        returned with the error, so the frames just before an unplug still count.
        """
        data = b""
        try:
            if self._socket:
                # socket:// reports in_waiting as 0 or 1: wait for a byte, then take the rest at once
                data = port.read(1)
                if data:
                    port.timeout = 0
                    try:
                        data += port.read(SOCKET_CHUNK)
                    finally:
                        port.timeout = self._read_timeout
                return data, None
            waiting = port.in_waiting
            data = port.read(waiting or 1)
            if data and not waiting and (waiting := port.in_waiting):
                data += port.read(waiting)  # woke on the first byte of a burst: take the rest
            return data, None
        except PORT_ERRORS as exc:
            return data, exc

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
            port = self._port
            if not self._connected or port is None:
                return False
            frame = encode_frame(self._host_seq, type_, fields)
            try:
                port.write(frame)
            except PORT_ERRORS as exc:
                log.debug("write to %s failed: %s", self._port_name, exc)
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
        if not self._lost:
            self._lost = True
            log.warning("device on %s lost: %s", self._port_name, reason)
            self._queue.put([ev.DeviceLost(None, time.monotonic(), reason)])

    def _reconnect(self) -> bool:
        """One attempt to reopen the same path, after the backoff delay."""
        if self._stop.wait(self._backoff):
            return False
        self._backoff = min(self._backoff * 2, self._backoff_max)
        port = self._port
        assert port is not None
        if self._pty_node is not None and pty_node(self._port_name) != self._pty_node:
            if not self._gone_for_good:
                self._gone_for_good = True
                log.warning("the pseudo-terminal %s is gone; one made later under that name is another "
                            "device, so the adapter does not reopen it", self._port_name)
            return False
        try:
            port.open()
        except (*PORT_ERRORS, ValueError) as exc:
            log.debug("reopening %s failed: %s", self._port_name, exc)
            self._close_port()
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
            port = self._port
            if port is None:
                return
            try:
                port.close()
            except (*PORT_ERRORS, ValueError) as exc:
                log.debug("closing %s: %s", self._port_name, exc)
                # pyserial left is_open True after a failed close; a new open() must not refuse
                port.is_open = False


def _why(exc: BaseException) -> str:
    """The useful part of a pyserial/OS error message, for a person."""
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, serial.SerialException):
        return exc.strerror.rstrip(".")
    text = str(exc) or type(exc).__name__
    if "exclusively lock" in text:
        return "it is in use by another program"
    # "[Errno 2] could not open port /dev/x: [Errno 2] No such file or directory: '/dev/x'"
    m = re.search(r"\[Errno \d+\] ([^:\[]+?)(?::\s*'[^']*')?$", text)
    return (m.group(1) if m else text).strip().rstrip(".")


def same_device(known: ev.Hello | None, hello: ev.Hello) -> bool:
    """Whether ``hello`` comes from the device we knew (vendor, model and serial number)."""
    if known is None:
        return True
    return (known.vendor, known.model, known.serial) == (hello.vendor, hello.model, hello.serial)


def pty_node(path: str) -> tuple[int, int] | None:
    """(device number, creation time) of a Linux pseudo-terminal named directly, else None.

    A pty's number is reused as soon as it is freed, by any program (a
    terminal window, another simulator), so after a hang-up the adapter must
    not open "the same" /dev/pts/N: it would read someone else's bytes. Only
    a symlink (the simulator's ``--link``, /dev/serial/by-id) may lead to the
    device's next pty.
    """
    if not path.startswith("/dev/pts/") or os.path.islink(path):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_rdev, st.st_ctime_ns


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


from_url.description = (  # type: ignore[attr-defined]
    "TSCP/1 device on a serial port: tscp+serial:///dev/ttyUSB0?baud=115200[&capture=FILE]"
)
