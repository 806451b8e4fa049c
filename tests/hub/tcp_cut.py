"""A TCP forwarder between the chairs and the hub that a test can cut and heal, like a clinic's network.

Chairs are given the forwarder's port instead of the hub's. ``cut()`` is the cable pulled: every
connection through it is reset at once (both ends: the chair's push sees its connection lost, the
hub's backend sees its client gone and rolls back) and new connections are refused until
``heal()``. ``cut_when(nbytes)`` arms a cut that fires in the middle of a push: as soon as one
connection has carried ``nbytes`` from a chair towards the hub (a session's COPY is the only thing
that large), that connection and all the others are cut, before those bytes reach the hub; or,
given an action, that action runs at that moment instead (the test stops the hub under the push).

Plain threads and blocking sockets: one thread accepts, two pump each connection. Nothing here
knows PostgreSQL's protocol; it moves bytes.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a dropped link looks to the far end, waking any blocked recv."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class _Link:
    """One chair connection and its connection to the hub."""

    def __init__(self, forwarder: TcpCut, client: socket.socket, server: socket.socket) -> None:
        self.forwarder = forwarder
        self.client, self.server = client, server
        self.upstream = 0  # bytes from the chair towards the hub
        self._closed = threading.Lock()
        self._done = False
        self._ended = 0  # directions whose sender has closed
        self.threads = [threading.Thread(target=self._pump, args=(client, server, True), daemon=True,
                                         name="tcp-cut-up"),
                        threading.Thread(target=self._pump, args=(server, client, False), daemon=True,
                                         name="tcp-cut-down")]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        ended = False
        try:
            while True:
                data = src.recv(65536)
                if not data:  # that end closed: pass the close on, as the network would
                    dst.shutdown(socket.SHUT_WR)
                    ended = True
                    return
                if up:
                    self.upstream += len(data)
                    action = self.forwarder._due(self.upstream)
                    if action is not None:
                        self.forwarder._fire(action)
                        if self.forwarder.is_cut:
                            return  # those bytes never reach the hub
                if not self.forwarder._wait_flowing(self):
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            if ended:
                with self._closed:
                    self._ended += 1
                    both = self._ended == 2
                if both:
                    self.close(reset=False)
            else:
                self.close()

    @property
    def closed(self) -> bool:
        return self._done

    def close(self, reset: bool = True) -> None:
        """Close both connections: with an RST (a cut, an error), or plainly once both ends have closed."""
        with self._closed:
            if self._done:
                return
            self._done = True
        for sock in (self.client, self.server):
            if reset:
                _reset(sock)
            else:
                with contextlib.suppress(OSError):
                    sock.close()
        self.forwarder._forget(self, self.upstream)


class TcpCut:
    """Forwards 127.0.0.1:``port`` to ``target``; ``cut()``, ``heal()``, ``cut_when(nbytes)``, ``close()``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._accepter: threading.Thread | None = None
        self._armed: tuple[int, Callable[[], object]] | None = None
        self._fired = threading.Event()
        self._flowing = threading.Event()
        self._flowing.set()
        self.port = 0
        self.accepted = 0
        """Connections accepted so far (a chair's pushes that got through)."""
        self.cuts = 0
        self.carried: list[int] = []
        """Bytes each finished connection carried towards the hub, in the order they ended."""
        self.fired_at_bytes: int | None = None
        """How many bytes the connection that set off an armed cut had carried towards the hub."""

    # --- listening -------------------------------------------------------------------------------

    def start(self) -> TcpCut:
        self._listen()
        return self

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.port = int(listener.getsockname()[1])
        self._listener = listener
        self._accepter = threading.Thread(target=self._accept, args=(listener,), daemon=True,
                                          name="tcp-cut-accept")
        self._accepter.start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                server = socket.create_connection(self.target, timeout=10)
                server.settimeout(None)
            except OSError:  # the hub is down: the chair sees its connection dropped
                _reset(client)
                continue
            link = _Link(self, client, server)
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _reset(client)
                    _reset(server)
                    return
                self._links.add(link)
                self._threads = [t for t in self._threads if t.is_alive()] + link.threads
                self.accepted += 1
            link.start()

    def _stop_listening(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._accepter is not None and self._accepter is not threading.current_thread():
            self._accepter.join(timeout=10)

    # --- faults ----------------------------------------------------------------------------------

    def cut(self) -> None:
        """Refuse new connections and reset every open one."""
        self._stop_listening()
        with self._lock:
            links = list(self._links)
            self.cuts += 1
        for link in links:
            link.close()

    def heal(self) -> None:
        """Accept connections again, on the same port, and move bytes again after a stall."""
        if self._listener is None:
            self._listen()
        self._flowing.set()

    def stall(self) -> None:
        """The link goes silent without closing: connections stay open (and new ones are accepted) but
        no byte moves either way until ``heal()`` or ``cut()`` -- a network that drops packets."""
        self._flowing.clear()

    def _wait_flowing(self, link: _Link) -> bool:
        """Hold a pump while the link is stalled; False once its connection has been closed meanwhile."""
        while not self._flowing.wait(0.1):
            if link.closed:
                return False
        return not link.closed

    @property
    def is_cut(self) -> bool:
        return self._listener is None

    def cut_when(self, nbytes: int, action: Callable[[], object] | None = None) -> threading.Event:
        """Arm a cut for the moment one connection has carried ``nbytes`` towards the hub; the event is
        set once it has fired (the forwarder then stays cut until ``heal()``).

        With ``action``, that is run instead of the cut, in the forwarding thread, before those bytes
        go on (e.g. stopping the hub under the push); the connection then carries on as it can."""
        with self._lock:
            self._fired.clear()
            self._armed = (nbytes, action or self.cut)
        return self._fired

    def _due(self, upstream: int) -> Callable[[], object] | None:
        with self._lock:
            if self._armed is None or upstream < self._armed[0]:
                return None
            action = self._armed[1]
            self._armed = None
            self.fired_at_bytes = upstream
            return action

    def _fire(self, action: Callable[[], object]) -> None:
        try:
            action()
        finally:
            self._fired.set()

    def _forget(self, link: _Link, upstream: int) -> None:
        with self._lock:
            self._links.discard(link)
            self.carried.append(upstream)

    def open_connections(self) -> int:
        with self._lock:
            return len(self._links)

    def close(self) -> None:
        """Stop forwarding for good and wait for the pump threads."""
        self.cut()
        self._flowing.set()
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            if t is not threading.current_thread():
                t.join(timeout=10)

    def __enter__(self) -> TcpCut:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
