"""The simulated Navigator's TCP server: any number of clients, persistent or one per message.

A persistent client (this console's adapter) gets the answers to its requests and everything
Navigator pushes. The public client's pattern (ctrl-localite: connect, send one object, close;
connect, read one object, close) works too: a new connection is sent nothing for :data:`GRACE_S`,
and what was meant for one that closed by then, or for an asker that has gone, is kept (up to
:data:`BACKLOG` pieces, as that client's own mock keeps a queue) and sent first to the next client
that connects. Pushes go to the clients connected at the time, and are lost when there are none,
as a real sender's would be.

Device time starts when the first client connects. The server's scenarios:

* ``latency``: now and then (every 1.5-3 s of wall time) answers are held back 0.3-0.8 s;
* ``garbage``: every 0.25 s of device time one bad piece goes out, each rejected exactly once by
  the scanner rule and each followed by a valid object so that it is counted at once (the fault
  log gives its kind and count);
* ``drop``: at 4 s of device time every connection is closed and new ones are closed at once for
  1.5 s of wall time (Navigator restarting), then served again;
* ``close-after-answer``: a connection is closed as soon as the answers it asked for are written
  (a Navigator that expects the public client's one connection per message).
"""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import IO, Any

from devices.localite.scanner import MAX_OBJECT, ObjectScanner
from devices.localite.sim.navigator import SimNavigator, Truth, encode

log = logging.getLogger(__name__)

BACKLOG = 100
GRACE_S = 0.05
"""A new connection is sent nothing for this long: one that closes by then (the public client's
"send" connection) leaves its answers in the backlog instead of losing them."""
TURN_S = 0.005
GARBAGE_PERIOD_S = 0.25
DROP_AT_S = 4.0
DROP_WALL_S = 1.5
TERMINATOR = encode({"pointer_status": "BLOCKED"})
GARBAGE_KINDS = ("noise", "stray-braces", "not-json", "range", "quaternion", "runaway", "binary")


class _Client:
    def __init__(self, sock: socket.socket, address: str) -> None:
        self.sock = sock
        self.address = address
        self.scanner = ObjectScanner()
        self.out = bytearray()
        self.closed = False
        self.opened_at = time.monotonic()
        self.written = 0
        self.asked = False  # it sent a request: a persistent client, sent everything from then on
        self.answers: list[bytes] = []  # answers not written yet (to the backlog if it closes first)
        self.first: bytes | None = None  # a listener's one message (the public client's listen())
        self.answered = False


class SimServer:
    def __init__(self, navigator: SimNavigator, *, port: int, speed: float,
                 record: Callable[[dict[str, Any]], None], trace: IO[str] | None = None) -> None:
        self.nav = navigator
        self.speed = speed
        self.record = record
        self.trace = trace
        self.stop = False
        self._sel = selectors.DefaultSelector()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._port = port
        self._clients: list[_Client] = []
        self._backlog: deque[bytes] = deque(maxlen=BACKLOG)
        self._held: list[tuple[_Client, bytes, Truth | None]] = []
        self._wall0: float | None = None
        self._hold_until = 0.0
        self._next_spike: float | None = None
        self._next_garbage = GARBAGE_PERIOD_S
        self._garbage_no = 0
        self._dropped = False
        self._refuse_until = 0.0
        self.has = navigator.has

    def open(self) -> int:
        self._listener.bind(("127.0.0.1", self._port))
        self._listener.listen(8)
        self._listener.setblocking(False)
        self._sel.register(self._listener, selectors.EVENT_READ)
        return int(self._listener.getsockname()[1])

    def device_s(self) -> float:
        return 0.0 if self._wall0 is None else (time.monotonic() - self._wall0) * self.speed

    def run(self) -> int:
        try:
            while not self.stop:
                self._turn()
        finally:
            for client in list(self._clients):
                self._close(client)
            self._sel.close()
            self._listener.close()
        return 0

    # --- one turn ------------------------------------------------------------------------------
    def _turn(self) -> None:
        for key, _mask in self._sel.select(TURN_S):
            if key.fileobj is self._listener:
                self._accept()
            else:
                self._read(key.data)
        now = time.monotonic()
        if self._wall0 is None:
            return
        t = self.device_s()
        if self.has("drop") and not self._dropped and t >= DROP_AT_S:
            self._drop(now)
        self._latency(now)
        for message in self.nav.advance(t):
            self._broadcast(message)
        if self.has("garbage"):
            while self._next_garbage <= t:
                self._next_garbage += GARBAGE_PERIOD_S
                self._garbage(t)
        self._release(now)
        for client in list(self._clients):
            self._write(client)

    def _accept(self) -> None:
        try:
            sock, address = self._listener.accept()
        except BlockingIOError:
            return
        if time.monotonic() < self._refuse_until:
            sock.close()  # Navigator is restarting
            return
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = _Client(sock, f"{address[0]}:{address[1]}")
        self._clients.append(client)
        self._sel.register(sock, selectors.EVENT_READ, client)
        if self._wall0 is None:
            self._wall0 = time.monotonic()
            self._next_spike = self._wall0 + self.nav.rng.uniform(1.5, 3.0)
        log.info("client %s connected at device time %.3f s", client.address, self.device_s())

    def _read(self, client: _Client) -> None:
        try:
            data = client.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        gone = not data
        if data:
            client.asked = True
        for raw in client.scanner.split(data):
            try:
                request = json.loads(raw)
            except ValueError:
                continue
            answer = self.nav.handle(request, self.device_s())
            if answer is not None:
                truth = replace(self.nav.truth) if self._is_position(answer) else None
                self._answer(client, answer, truth)
        if gone:
            self._close(client)

    def _is_position(self, message: bytes) -> bool:
        return message.startswith(b'{"' + self.nav.prefix.encode() + b'position"')

    def _answer(self, client: _Client, answer: bytes, truth: Truth | None) -> None:
        if time.monotonic() < self._hold_until or self._held:  # answers keep their order
            self._held.append((client, answer, truth))
            return
        self._deliver(client, answer, truth)

    def _deliver(self, client: _Client, answer: bytes, truth: Truth | None) -> None:
        if client.closed:
            self._backlog.append(answer)  # the asker left: the next client gets it
            return
        self._send(client, answer, truth, answer=True)

    def _send(self, client: _Client, message: bytes, truth: Truth | None = None, *,
              answer: bool = False) -> None:
        if not client.asked:  # a listener: one message only, and the backlog's come first
            if client.first is None:
                client.first = message
            return
        client.out += message
        if answer:
            client.answered = True
            if not client.written:
                client.answers.append(message)
        if self.trace is not None:
            rec: dict[str, Any] = {"t": time.monotonic(), "to": client.address,
                                   "text": message[:200].decode("ascii", "replace")}
            if truth is not None:
                rec["pose"], rec["seen"], rec["offset_mm"] = truth.pose, truth.seen, truth.offset_mm
            self.trace.write(json.dumps(rec) + "\n")

    def _broadcast(self, message: bytes) -> None:
        for client in self._clients:
            self._send(client, message)

    def _write(self, client: _Client) -> None:
        if client.closed or time.monotonic() - client.opened_at < GRACE_S:
            return
        if not client.asked and not client.written and not client.out:
            message = self._backlog.popleft() if self._backlog else client.first
            if message is not None:
                client.out += message
                client.first = b""  # nothing more until it asks for something
        if not client.out:
            return
        try:
            n = client.sock.send(client.out)
        except BlockingIOError:
            return
        except OSError:
            self._close(client)
            return
        del client.out[:n]
        client.written += n
        if self.trace is not None and not client.out:
            self.trace.flush()
        if not client.out and client.answered and self.has("close-after-answer") and not self._held:
            self._close(client)

    def _close(self, client: _Client) -> None:
        if client.closed:
            return
        client.closed = True
        if not client.written:  # closed before anything was sent to it: the answers wait for the next
            self._backlog.extend(client.answers)
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(client.sock)
        with contextlib.suppress(OSError):
            client.sock.close()
        self._clients.remove(client)
        log.info("client %s gone", client.address)

    # --- scenarios -----------------------------------------------------------------------------
    def _latency(self, now: float) -> None:
        if not self.has("latency") or self._next_spike is None or now < self._next_spike:
            return
        hold = self.nav.rng.uniform(0.3, 0.8)
        self._hold_until = now + hold
        self._next_spike = now + hold + self.nav.rng.uniform(1.5, 3.0)
        self.record({"kind": "latency", "device_s": round(self.device_s(), 3), "hold_s": round(hold, 3)})

    def _release(self, now: float) -> None:
        if not self._held or now < self._hold_until:
            return
        held, self._held = self._held, []
        for client, answer, truth in held:
            self._deliver(client, answer, truth)

    def _drop(self, now: float) -> None:
        self._dropped = True
        self._refuse_until = now + DROP_WALL_S
        for client in list(self._clients):
            self._close(client)
        self._held = []
        self.record({"kind": "drop", "device_s": round(self.device_s(), 3), "wall_s": DROP_WALL_S})

    def _garbage(self, t: float) -> None:
        """One bad piece, then a valid object that ends it (a junk run counts when an object starts)."""
        kind = GARBAGE_KINDS[self._garbage_no % len(GARBAGE_KINDS)]
        self._garbage_no += 1
        rng = self.nav.rng
        p = self.nav.prefix
        if kind == "noise":
            piece = bytes(rng.choice(b"abcdefXYZ0123456789#:;,.") for _ in range(rng.randint(1, 30)))
        elif kind == "stray-braces":
            piece = b"}]}" + b"\r\n"
        elif kind == "not-json":
            piece = b'{"' + p.encode() + b'amplitude": , "x": {"y": "}"}}'
        elif kind == "range":
            piece = encode({p + "amplitude": rng.randint(101, 999)})
        elif kind == "quaternion":
            piece = encode({p + "position": {"q0": 0.9, "qx": 0.9, "qy": 0.0, "qz": 0.0,
                                             "x": 1.0, "y": 2.0, "z": 3.0}})
        elif kind == "runaway":
            piece = b'{"log": "' + b"x" * (MAX_OBJECT + 100)  # never closes: cut at the limit
        else:
            piece = bytes(rng.choice(range(0x80, 0x100)) for _ in range(rng.randint(1, 16)))
        if not self._clients:
            return
        self._broadcast(piece + TERMINATOR)
        self.record({"kind": "garbage", "what": kind, "device_s": round(t, 3), "rejected": 1,
                     "clients": len(self._clients)})
