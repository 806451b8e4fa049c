"""Where the simulated device's bytes go: a pseudo-terminal (default) or a TCP socket.

Both are non-blocking and tell the server three things a serial device can
sense: whether a host is attached (pty: the slave side is open, seen as the
absence of POLLHUP on the master; TCP: a client is connected), what the host
sent, and whether the host has taken everything written (so an unplug or an
exit does not throw away frames already "on the wire").
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import struct
from pathlib import Path

from devices.sim import poller

try:  # POSIX only; on Windows the simulator serves TCP
    import fcntl
    import termios
    import tty
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = termios = tty = None  # type: ignore[assignment]  # a module or None: mypy gives a name one type

log = logging.getLogger(__name__)

_EAGAIN = (errno.EAGAIN, errno.EWOULDBLOCK)


class HostGone(Exception):
    """The host side went away while reading or writing."""


def _int_ioctl(fd: int, request: int) -> int:
    return struct.unpack("i", fcntl.ioctl(fd, request, b"\0\0\0\0"))[0]


def ptys_available() -> bool:
    return hasattr(os, "openpty") and tty is not None


class PtyTransport:
    """A pseudo-terminal in raw mode; ``link`` (optional) is a symlink kept pointing at it."""

    def __init__(self, link: Path | None = None) -> None:
        self.link = link
        self.path = ""
        self._master: int | None = None
        self._spare: tuple[int, str] | None = None

    @staticmethod
    def _new_pty() -> tuple[int, str]:
        master, slave = os.openpty()
        tty.setraw(slave)
        path = os.ttyname(slave)
        # Only the host holds the slave side: the master then sees POLLHUP while no host is attached.
        os.close(slave)
        os.set_blocking(master, False)
        return master, path

    def open(self) -> str:
        self._master, self.path = self._spare or self._new_pty()
        self._spare = None
        if self.link is not None:
            tmp = self.link.with_name(f".{self.link.name}.{os.getpid()}.tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self.path)
            os.replace(tmp, self.link)
            return str(self.link)
        return self.path

    @property
    def fd(self) -> int:
        assert self._master is not None
        return self._master

    def attached(self) -> bool:
        if self._master is None:
            return False
        p = poller.Poller()
        p.register(self._master, poller.POLLIN)
        return not any(ev & poller.POLLHUP for _, ev in p.poll(0))

    def read(self) -> bytes:
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return b""
        except OSError as e:  # EIO: the slave side was closed
            raise HostGone(str(e)) from e
        return data

    def write(self, data: bytes | bytearray | memoryview) -> int:
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0
        except OSError as e:
            if e.errno in _EAGAIN:
                return 0
            raise HostGone(str(e)) from e

    def unread_by_host(self) -> int:
        """Bytes written that the host has not read yet (opens the slave briefly to ask)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return 0
        try:
            return _int_ioctl(fd, termios.FIONREAD)
        finally:
            os.close(fd)

    def disconnect(self) -> None:
        """The cable is pulled: the pty disappears, and so does the link (as under /dev/serial/by-id).

        The next pty is taken before this one is closed, so that it gets another path, as a
        USB serial device often does when plugged in again."""
        self._spare = self._new_pty()
        self._close_current()

    def reopen(self) -> str:
        return self.open()

    def close(self) -> None:
        self._close_current()
        if self._spare is not None:
            os.close(self._spare[0])
            self._spare = None

    def _close_current(self) -> None:
        self._remove_link()
        if self._master is not None:
            os.close(self._master)
            self._master = None

    def _remove_link(self) -> None:
        if self.link is not None and self.link.is_symlink():
            with contextlib.suppress(OSError):
                if os.readlink(self.link) == self.path:
                    self.link.unlink()


class TcpTransport:
    """TCP on 127.0.0.1, one client at a time (others are accepted and closed at once)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None

    def open(self) -> str:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(4)
        s.setblocking(False)
        self._listener = s
        self.port = s.getsockname()[1]
        return f"socket://127.0.0.1:{self.port}"

    @property
    def fd(self) -> int:
        assert self._client is not None
        return self._client.fileno()

    @property
    def listener_fd(self) -> int | None:
        return self._listener.fileno() if self._listener is not None else None

    def attached(self) -> bool:
        if self._client is None and self._listener is not None:
            try:
                client, _ = self._listener.accept()
            except BlockingIOError:
                return False
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._client = client
        return self._client is not None

    def refuse_others(self) -> None:
        """Accept and close any second client: one host at a time."""
        if self._listener is None:
            return
        while True:
            try:
                extra, _ = self._listener.accept()
            except BlockingIOError:
                return
            log.warning("a second client tried to connect; only one host at a time")
            extra.close()

    def read(self) -> bytes:
        assert self._client is not None
        try:
            data = self._client.recv(65536)
        except BlockingIOError:
            return b""
        except OSError as e:
            raise HostGone(str(e)) from e
        if not data:
            raise HostGone("the client closed the connection")
        return data

    def write(self, data: bytes | bytearray | memoryview) -> int:
        assert self._client is not None
        try:
            return self._client.send(data)
        except BlockingIOError:
            return 0
        except OSError as e:
            raise HostGone(str(e)) from e

    def unread_by_host(self) -> int:
        """Bytes still in the send queue (not yet acknowledged by the client)."""
        if self._client is None or termios is None or not hasattr(termios, "TIOCOUTQ"):
            return 0  # unknown here: the linger after draining covers it
        try:
            return _int_ioctl(self._client.fileno(), termios.TIOCOUTQ)  # SIOCOUTQ on Linux
        except OSError:
            return 0

    def disconnect(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.shutdown(socket.SHUT_RDWR)
            self._client.close()
            self._client = None

    def reopen(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.disconnect()
        if self._listener is not None:
            self._listener.close()
            self._listener = None


Transport = PtyTransport | TcpTransport
