"""The byte transport under a TSCP link: one pyserial port (a serial line or ``socket://``).

This module knows ports, not frames: opening a port exclusively, reading
everything available in one go, writing, and telling a hang-up (a USB cable
pulled, a pty closed) from a quiet line. The TSCP link on top of it
(:mod:`devices.serial_adapter`) decides what a silence or a failure means.

It imports on every platform: ``termios`` exists only on POSIX, and the
errors it adds there are simply absent from :data:`PORT_ERRORS` on Windows.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Protocol, cast

import serial

from devices.adapter import DeviceError

try:  # POSIX only; pyserial on Windows raises SerialException and OSError alone
    import termios
except ImportError:  # pragma: no cover - exercised on Windows (and by tests/test_portable_imports.py)
    termios = None  # type: ignore[assignment]  # a module or None: mypy gives a name one type

log = logging.getLogger(__name__)

SOCKET_CHUNK = 65536


def port_errors() -> tuple[type[BaseException], ...]:
    """What a failing port raises on this platform.

    After a Linux pty hang-up pyserial raises SerialException on read, OSError
    on in_waiting and termios.error on reset_input_buffer (is_open stays True).
    """
    errors: tuple[type[BaseException], ...] = (serial.SerialException, OSError)
    if termios is not None:
        errors += (termios.error,)
    return errors


PORT_ERRORS = port_errors()
OPEN_ERRORS: tuple[type[BaseException], ...] = (*PORT_ERRORS, ValueError)
"""Opening or closing also raises ValueError (a bad setting, or a port pyserial thinks is closed)."""
CANCEL_ERRORS: tuple[type[BaseException], ...] = (*PORT_ERRORS, AttributeError, NotImplementedError)
"""Not every port can cancel a read in progress."""


class Port(Protocol):
    """What the transport uses of a pyserial port (``SerialBase`` leaves these to its subclasses)."""

    port: str | None
    timeout: float | None
    write_timeout: float | None
    is_open: bool

    @property
    def in_waiting(self) -> int: ...

    def open(self) -> None: ...

    def close(self) -> None: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def cancel_read(self) -> None: ...


class SerialTransport:
    """One port, opened exclusively; ``port`` is a path or URL, or an already built ``SerialBase``.

    Not thread-safe by itself: the link serialises writes and closing (its
    write lock) and lets only its reader thread read.
    """

    def __init__(self, port: str | serial.SerialBase, *, baudrate: int = 115200,
                 read_timeout: float = 0.05) -> None:
        if isinstance(port, str):
            self._port: Port | None = None
            self.name = port
        else:
            self._port = cast(Port, port)
            self.name = str(port.port)
        self.baudrate = baudrate
        self.read_timeout = read_timeout
        self._socket = False  # a socket:// port (in_waiting says only "something")
        self._pty_node: tuple[int, int] | None = None
        self._gone_for_good = False

    @property
    def is_socket(self) -> bool:
        return self._socket

    def open(self) -> None:
        """Open the port for the first time; :class:`DeviceError` says why it cannot be."""
        try:
            if self._port is None:
                # exclusive: a second console (or adapter) on the same port would steal frames
                self._port = cast(Port, serial.serial_for_url(
                    self.name, baudrate=self.baudrate, timeout=self.read_timeout,
                    write_timeout=1.0, exclusive=True, do_not_open=True,
                ))
            else:
                # the reader must wake up to PING and to notice close(); a write must never hang it
                self._port.timeout = self.read_timeout
                self._port.write_timeout = 1.0
            if not self._port.is_open:
                self._port.open()
        except OPEN_ERRORS as exc:
            raise DeviceError(f"Cannot open {self.name}: {why(exc)}.") from exc
        self._socket = type(self._port).__module__.endswith("protocol_socket")
        self._pty_node = pty_node(self.name)

    def reopen(self) -> bool:
        """Open the same port again after a failure; False when it cannot (yet, or ever) be."""
        port = self._port
        assert port is not None, "reopen() before open()"
        if self._pty_node is not None and pty_node(self.name) != self._pty_node:
            if not self._gone_for_good:
                self._gone_for_good = True
                log.warning("the pseudo-terminal %s is gone; one made later under that name is another "
                            "device, so the adapter does not reopen it", self.name)
            return False
        try:
            port.open()
        except OPEN_ERRORS as exc:
            log.debug("reopening %s failed: %s", self.name, exc)
            self.close()
            return False
        return True

    def read_chunk(self) -> tuple[bytes, BaseException | None]:
        """Everything available now (waiting up to ``read_timeout`` for the first byte).

        Big chunks keep the cost per frame low. Bytes read before a failure are
        returned with the error, so the frames just before an unplug still count.
        """
        port = self._port
        assert port is not None, "read_chunk() before open()"
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
                        port.timeout = self.read_timeout
                return data, None
            waiting = port.in_waiting
            data = port.read(waiting or 1)
            if data and not waiting and (waiting := port.in_waiting):
                data += port.read(waiting)  # woke on the first byte of a burst: take the rest
            return data, None
        except PORT_ERRORS as exc:
            return data, exc

    def write(self, data: bytes) -> bool:
        """Write ``data``; False when the port failed (the reader then notices the hang-up)."""
        port = self._port
        if port is None:
            return False
        try:
            port.write(data)
        except PORT_ERRORS as exc:
            log.debug("write to %s failed: %s", self.name, exc)
            return False
        return True

    def cancel_read(self) -> None:
        """Wake a reader blocked in ``read_chunk`` (best effort: not every port can)."""
        port = self._port
        try:
            if port is not None and port.is_open:
                port.cancel_read()
        except CANCEL_ERRORS:
            pass

    def close(self) -> None:
        port = self._port
        if port is None:
            return
        try:
            port.close()
        except OPEN_ERRORS as exc:
            log.debug("closing %s: %s", self.name, exc)
            # pyserial left is_open True after a failed close; a new open() must not refuse
            port.is_open = False


def why(exc: BaseException) -> str:
    """The useful part of a pyserial/OS error message, for a person."""
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, serial.SerialException):
        return exc.strerror.rstrip(".")
    text = str(exc) or type(exc).__name__
    if "exclusively lock" in text:
        return "it is in use by another program"
    # "[Errno 2] could not open port /dev/x: [Errno 2] No such file or directory: '/dev/x'"
    m = re.search(r"\[Errno \d+\] ([^:\[]+?)(?::\s*'[^']*')?$", text)
    return (m.group(1) if m else text).strip().rstrip(".")


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
