"""The chair's connection to the hub, which gives up on a hub that stops answering.

``connect_timeout`` only covers opening a connection. A network that goes silent mid-push (packets
dropped, not refused: a cable pulled further along, Wi-Fi gone) or a hub that stops answering would
leave a push, and the chair's background sync with it, waiting with no end. So:

- TCP keepalives and ``tcp_user_timeout`` (libpq's own settings) end a connection whose far end has
  stopped acknowledging;
- :class:`WatchedConnection` ends one whose far end still acknowledges but sends nothing back: every
  wait on the server (each statement, COPY and COMMIT goes through ``Connection.wait``) arms a timer of
  :data:`STALL_S`; when it fires the socket is shut down, libpq sees the connection closed, and the
  push fails with its one sentence (each session is one transaction: the hub keeps none of a cut one,
  the next push sends it whole).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

import psycopg

log = logging.getLogger(__name__)

STALL_S = 30.0
"""How long one exchange with the hub may wait for an answer. A 3000-pulse session goes in about
0.1 s and a clinic-year review list in under 0.5 s (docs/PERFORMANCE.md), so 30 s is a hub gone."""

KEEPALIVE: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 15, "keepalives_interval": 5,
                             "keepalives_count": 3, "tcp_user_timeout": int(STALL_S * 1000)}
"""libpq parameters: a far end that stops acknowledging is dropped after about 30 s."""


class WatchedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait on the server ends after :data:`STALL_S` without an answer."""

    stalled = False
    """True once the watchdog cut this connection (the push says why)."""

    def wait(self, gen: Any, *args: Any, **kwargs: Any) -> Any:
        timer = threading.Timer(STALL_S, self._cut)
        timer.daemon = True
        timer.start()
        try:
            return super().wait(gen, *args, **kwargs)
        finally:
            timer.cancel()

    def _cut(self) -> None:
        """Shut the socket down under libpq's feet (a copy of its descriptor: libpq still owns it)."""
        self.stalled = True
        log.info("the hub did not answer for %.0f s: dropping the connection", STALL_S)
        try:
            fd = os.dup(self.pgconn.socket)
        except (OSError, psycopg.Error) as exc:
            log.warning("could not drop the stalled hub connection: %s", exc)
            return
        try:
            with socket.socket(fileno=fd) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError as exc:
            log.warning("could not drop the stalled hub connection: %s", exc)


def lost_reason(conn: Any, exc: BaseException) -> str:
    """Why a connection was lost, in words: the watchdog's cut says so, else the driver's first line."""
    if getattr(conn, "stalled", False):
        return f"the hub did not answer for {STALL_S:.0f} s"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
