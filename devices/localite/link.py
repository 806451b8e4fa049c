"""One TCP connection to TMS Navigator's JSON interface: connect with a deadline, read what has
arrived, write, close.

The public client opens a new connection for every message it sends and every message it reads
(ctrl-localite loc.py). This adapter keeps one connection open for the whole session and opens a
new one when it drops, so a pose is never the first object of a fresh connection (whatever
Navigator queued meanwhile). Whether Navigator serves a persistent connection is unverified.
"""

from __future__ import annotations

import contextlib
import select
import socket

CHUNK = 65536
WRITE_TIMEOUT_S = 1.0


def why(exc: OSError) -> str:
    """A short reason for a person ("connection refused", "timed out")."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return "no answer to the connection request (timed out)"
    if isinstance(exc, socket.gaierror):
        return "the name or address cannot be resolved"
    text = exc.strerror or str(exc) or type(exc).__name__
    return text.rstrip(".").lower() if text[:1].isupper() and text[1:2].islower() else text.rstrip(".")


class TcpLink:
    """The socket; used by the adapter's reader thread only (close() after that thread ended)."""

    def __init__(self, host: str, port: int, read_timeout: float = 0.05) -> None:
        self.host = host
        self.port = port
        self.read_timeout = read_timeout
        self._sock: socket.socket | None = None

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"

    def connect(self, timeout: float) -> None:
        """Open a new connection (closing any old one); OSError when it cannot be made in time."""
        self.close()
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(WRITE_TIMEOUT_S)
        self._sock = sock

    def read_chunk(self, timeout: float | None = None) -> tuple[bytes, str | None]:
        """What has arrived (waiting up to ``timeout``, default ``read_timeout``, for it), and why
        the link failed, if it did."""
        sock = self._sock
        if sock is None:
            return b"", "the connection is closed"
        wait = self.read_timeout if timeout is None else max(0.0, min(timeout, self.read_timeout))
        try:
            ready, _, _ = select.select([sock], [], [], wait)
            if not ready:
                return b"", None
            data = sock.recv(CHUNK)
        except ConnectionResetError:
            return b"", "TMS Navigator reset the connection"
        except (OSError, ValueError) as exc:
            return b"", why(exc) if isinstance(exc, OSError) else "the connection is closed"
        if not data:
            return b"", "TMS Navigator closed the connection"
        return data, None

    def write(self, data: bytes) -> bool:
        sock = self._sock
        if sock is None:
            return False
        try:
            sock.sendall(data)
        except OSError:
            return False
        return True

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
