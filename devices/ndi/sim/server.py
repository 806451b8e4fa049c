"""The simulated NDI unit's event loop on a pseudo-terminal: line rates, reply timing, scenarios.

**Line rate.** The unit starts at 9600 baud and changes rate only after it has sent the OKAY of a
``COMM`` command, as the real one does. On Linux the pty master reads the host side's termios, so
the simulator knows the rate the host set: a command sent at another rate than the unit's is not
understood (dropped and logged), and a reply sent while the host listens at another rate arrives
garbled. A pty cannot carry a serial break, so the simulator stands in for the break a host sends
after an unanswered ``INIT``: when the host opens the port, or sends at 9600 while the unit runs
faster, the unit goes back to 9600 and uninitialised (silently; no ``RESETBE6F`` can follow a break
the unit never saw).

**Timing.** One command at a time: the reply starts 1 ms after the command and takes its length at
the line rate (10 bits a byte) to cross the line: it is written to the pty as the line would carry it
(every 2 ms, what has crossed by then), and the next command is read after its last byte. The camera's frame
number counts at 60 Hz of device time (``--speed`` times the wall clock) from the first time a
host opens the port.

**Scenarios on the line** (the pose scenarios are in :mod:`devices.ndi.sim.motion`): ``latency``
holds one tracking reply back 150-350 ms every 3 s of device time; ``garbage`` puts 1-12 random
bytes before a tracking reply every 2 s and corrupts a reply's CRC every 5 s.
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TextIO

from devices.ndi.sim.device import SimUnit
from devices.ndi.sim.motion import FRAME_HZ
from devices.sim.poller import POLLIN, Poller, hung_up

try:  # POSIX only: the pty's line rate; on Windows the simulator serves TCP and has none
    import termios
except ImportError:  # pragma: no cover - exercised on Windows only
    termios = None  # type: ignore[assignment]
from devices.sim.transport import HostGone, PtyTransport

log = logging.getLogger(__name__)

REPLY_DELAY_S = 0.001
MAX_WAIT_S = 0.02
BYTE_STEP_S = 0.002
"""A reply in progress is written on in steps of 2 ms of line time (about 23 bytes at 115200)."""
LATENCY_EVERY_S = 3.0
GARBAGE_EVERY_S = 2.0
BAD_CRC_EVERY_S = 5.0
MAX_LINE = 4096
_SPEEDS = {getattr(termios, f"B{b}"): b for b in (9600, 19200, 38400, 57600, 115200, 230400, 921600)
           if hasattr(termios, f"B{b}")}


class _Out:
    """A reply on its way: its bytes leave at the line rate from ``start`` (10 bits a byte)."""

    __slots__ = ("data", "frame", "new_rate", "sent", "start")

    def __init__(self, start: float, data: bytes, new_rate: int | None, frame: int | None) -> None:
        self.start = start
        self.data = data
        self.new_rate = new_rate
        self.frame = frame
        self.sent = 0


class SimServer:
    def __init__(self, unit: SimUnit, transport: PtyTransport, *, speed: float, seed: int,
                 scenarios: tuple[str, ...], announce: Callable[[str], None],
                 record: Callable[[dict[str, Any]], None], send_log: TextIO | None = None) -> None:
        self.unit = unit
        self.transport = transport
        self.speed = speed
        self.scenarios = scenarios
        self.announce = announce
        self.record = record
        self.send_log = send_log
        self.rng = random.Random(seed)
        self.stop = False
        self._attached = False
        self._wall0: float | None = None
        self._in = bytearray()
        self._out: deque[_Out] = deque()
        self._busy_until = 0.0
        self._next = {"latency": LATENCY_EVERY_S, "garbage": GARBAGE_EVERY_S, "bad-crc": BAD_CRC_EVERY_S}

    def device_s(self, now: float) -> float:
        return 0.0 if self._wall0 is None else (now - self._wall0) * self.speed

    def frame(self, now: float) -> int:
        return int(self.device_s(now) * FRAME_HZ)

    def run(self) -> int:
        while not self.stop:
            self._turn()
        self.transport.close()
        return 0

    def _turn(self) -> None:
        attached = self.transport.attached()
        if attached != self._attached:
            self._attached = attached
            log.info("host %s", "attached" if attached else "detached")
            self._in.clear()
            self._out.clear()
            if attached:
                if self._wall0 is None:
                    self._wall0 = time.monotonic()
                self.unit.reset()  # a host opening the port stands in for the break it would send
        if not attached:
            time.sleep(0.01)
            return
        now = time.monotonic()
        self._send_due(now)
        if now >= self._busy_until and not self._out:
            self._answer_next(now)
        wait = MAX_WAIT_S
        if self._out:
            first = self._out[0]
            wait = min(wait, max(first.start - now, BYTE_STEP_S if first.sent else 0.0))
        elif self._in and b"\r" in self._in:
            wait = min(wait, max(self._busy_until - now, 0.0))
        p = Poller()
        p.register(self.transport.fd, POLLIN)
        for _fd, revents in p.poll(int(wait * 1000)):
            if revents & POLLIN:
                self._read()
            elif hung_up(revents):
                self._attached = False
                self._in.clear()
                self._out.clear()

    # --- input -----------------------------------------------------------------------------------
    def _host_rate(self) -> int | None:
        if termios is None:
            return None
        try:
            return _SPEEDS.get(termios.tcgetattr(self.transport.fd)[4])
        except termios.error:
            return None

    def _read(self) -> None:
        try:
            data = self.transport.read()
        except HostGone:
            self._attached = False
            return
        if not data:
            return
        host = self._host_rate()
        if host is not None and host != self.unit.rate:
            self.record({"kind": "wrong_rate", "host_baud": host, "unit_baud": self.unit.rate,
                         "bytes": len(data)})
            log.info("%d bytes at %d baud while the unit runs at %d: not understood", len(data), host,
                     self.unit.rate)
            if host == 9600:
                self.unit.reset()  # the break a host sends after an unanswered INIT (see module doc)
            return
        self._in += data
        if len(self._in) > MAX_LINE and b"\r" not in self._in:
            self._in.clear()

    def _answer_next(self, now: float) -> None:
        end = self._in.find(b"\r")
        if end < 0:
            return
        line = bytes(self._in[:end])
        del self._in[:end + 1]
        answer = self.unit.handle(line, self.frame(now))
        if answer.data.startswith(b"ERROR"):
            self.record({"kind": "refused", "command": line[:12].decode("ascii", "replace"),
                         "error": answer.data[5:7].decode("ascii")})
        start = now + REPLY_DELAY_S
        data = answer.data
        if answer.tracking_frame is not None:
            start, data = self._line_scenarios(now, start, data)
        self._out.append(_Out(start, data, answer.new_rate, answer.tracking_frame))

    def _line_scenarios(self, now: float, start: float, data: bytes) -> tuple[float, bytes]:
        s = self.device_s(now)
        t = int(s * 1000)
        if "latency" in self.scenarios and s >= self._next["latency"]:
            self._next["latency"] = s + LATENCY_EVERY_S
            hold = self.rng.uniform(0.15, 0.35)
            start += hold
            self.record({"kind": "latency", "device_t": t, "hold_ms": round(hold * 1000)})
        if "garbage" in self.scenarios:
            if s >= self._next["bad-crc"]:
                self._next["bad-crc"] = s + BAD_CRC_EVERY_S
                data = _corrupt_crc(data)
                self.record({"kind": "bad_crc", "device_t": t})
            if s >= self._next["garbage"]:
                self._next["garbage"] = s + GARBAGE_EVERY_S
                junk = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 12)))
                data = junk + data
                self.record({"kind": "garbage", "device_t": t, "bytes": len(junk)})
        return start, data

    # --- output ----------------------------------------------------------------------------------
    def _send_due(self, now: float) -> None:
        """Write what the line has carried of the first reply by ``now``; the next one after it."""
        while self._out and self._out[0].start <= now:
            out = self._out[0]
            rate = self.unit.rate
            due = min(len(out.data), int((now - out.start) * rate / 10.0) + 1)
            if due > out.sent:
                data = out.data[out.sent:due]
                host = self._host_rate()
                if host is not None and host != rate:
                    data = bytes(b ^ 0x5A for b in data)  # heard at the wrong rate: noise
                if not self._write(data):
                    return
                if out.sent == 0 and out.frame is not None and self.send_log is not None:
                    self.send_log.write(f"{out.frame}\t{out.start:.6f}\n")
                    self.send_log.flush()
                out.sent = due
            if out.sent < len(out.data):
                return
            self._out.popleft()
            self._busy_until = now
            if out.new_rate is not None:
                self.unit.rate = out.new_rate
                log.info("line rate now %d baud", out.new_rate)
            if self._out:
                self._out[0].start = max(self._out[0].start, now)

    def _write(self, data: bytes) -> bool:
        try:
            written = 0
            while written < len(data):
                n = self.transport.write(data[written:])
                if n <= 0:
                    time.sleep(0.001)
                written += max(n, 0)
        except HostGone:
            self._attached = False
            return False
        return True


def _corrupt_crc(data: bytes) -> bytes:
    """The same reply with one CRC digit (text) or byte (binary) wrong."""
    if data.endswith(b"\r"):
        last = data[-2:-1]
        return data[:-2] + (b"1" if last != b"1" else b"2") + b"\r"
    return data[:-1] + bytes((data[-1] ^ 0x01,))
