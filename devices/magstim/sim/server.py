"""The simulated Magstim's I/O loop: bytes from the host to commands, replies back at 9600 baud pace.

The unit parses commands by their letter's length (VENDORS.md §1.2); a
partial command followed by 50 ms of quiet is dropped, as a UART command
parser would. Replies leave after a short latency plus their wire time at
9600 baud. Scenarios: ``temp-drift`` (the coil heats ten times faster:
auto-disarm above 40 °C), ``coil-unplugged`` (no coil for 3 s),
``unlock-wrong`` (the unit expects another code: silence), ``garbage``
(noise bytes and bad checksums in replies), ``cable-pulled`` (the port goes
away for 2 s and comes back under a new name; ``--link`` follows it).
"""

from __future__ import annotations

import contextlib
import logging
import random
import signal
import time
from collections.abc import Callable
from typing import Any

from devices.magstim.sim.unit import SimUnit
from devices.sim import poller
from devices.sim.faultlog import FaultLog
from devices.sim.transport import HostGone, PtyTransport, TcpTransport

log = logging.getLogger(__name__)

SCENARIOS = ("temp-drift", "coil-unplugged", "unlock-wrong", "garbage", "cable-pulled")
COMMAND_GAP_S = 0.05
REPLY_LATENCY_S = 0.002
BYTE_S = 10 / 9600
GARBAGE_P = 0.04
BAD_CRC_P = 0.02
UNPLUG_REAL_S = 2.0
COIL_OFF_REAL_S = 3.0


class MagstimServer:
    """Runs one :class:`SimUnit` on a transport until stopped."""

    def __init__(self, unit: SimUnit, transport: PtyTransport | TcpTransport, *, speed: float = 1.0,
                 scenarios: tuple[str, ...] = (), scenario_at: float = 20.0, seed: int = 1,
                 fault_log: FaultLog | None = None, announce: Callable[[str], None] = print,
                 exit_after: float | None = None, wire: Callable[[str, bytes], None] | None = None) -> None:
        self.unit = unit
        self.wire = wire or (lambda direction, data: None)
        self.transport = transport
        self.speed = speed
        self.scenarios = scenarios
        self.scenario_at = scenario_at
        self.rng = random.Random(seed ^ 0x5A5A)
        self.fault_log = fault_log or FaultLog(None)
        self.announce = announce
        self.exit_after = exit_after
        self._stop = False
        self._buf = bytearray()
        self._last_byte = 0.0
        self._out: list[tuple[float, bytes]] = []
        self._start = 0.0
        self._done: set[str] = set()
        self._back_at: float | None = None
        self._coil_back_at: float | None = None
        self.panel_start: Callable[[float], None] | None = None
        self.panel_at: float | None = None

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: self.request_stop())

    def request_stop(self) -> None:
        self._stop = True

    def _fault(self, kind: str, **fields: Any) -> None:
        self.fault_log.write({"kind": kind, "t": round(self.unit.now, 4), **fields})

    def run(self) -> int:
        self._start = time.monotonic()
        attached_once = False
        while not self._stop:
            real = time.monotonic() - self._start
            if self.exit_after is not None and real >= self.exit_after:
                break
            self.unit.advance(real * self.speed, real)
            self._scenarios(real)
            if self._back_at is not None:
                if real < self._back_at:
                    time.sleep(0.01)
                    continue
                self._back_at = None
                self.announce(self.transport.reopen())
                self._fault("cable_back")
            if not self.transport.attached():
                if attached_once:
                    self._host_left()
                    attached_once = False
                time.sleep(0.01)
                continue
            attached_once = True
            try:
                self._serve(real)
            except HostGone:
                self._host_left()
                attached_once = False
        self.transport.close()
        self.fault_log.close()
        return 0

    def _host_left(self) -> None:
        """No host holds the port: the link's state goes (a Rapid v9+ locks again)."""
        self._buf.clear()
        self._out.clear()
        self.unit.remote = False
        self.unit.unlocked = not self.unit.unit.needs_unlock

    def _serve(self, real: float) -> None:
        p = poller.Poller()
        p.register(self.transport.fd, poller.POLLIN)
        wait_ms = 5 if not self._out else max(0, min(5, int((self._out[0][0] - real) * 1000)))
        if p.poll(wait_ms):
            data = self.transport.read()
            now = time.monotonic() - self._start
            if data:
                if self._buf and now - self._last_byte > COMMAND_GAP_S:
                    self._buf.clear()
                self._last_byte = now
                self._buf += data
                self._parse(now)
        elif self._buf and real - self._last_byte > COMMAND_GAP_S:
            log.info("dropped a partial command %r", bytes(self._buf[:1]))
            self._buf.clear()
        now = time.monotonic() - self._start
        while self._out and self._out[0][0] <= now:
            _, reply = self._out.pop(0)
            self.wire("<", reply)
            self._write(reply)

    def _parse(self, now: float) -> None:
        buf = self._buf
        while buf:
            length = self.unit.command_length(bytes(buf))
            if length is None or len(buf) < length:
                return
            cmd = bytes(buf[:length])
            del buf[:length]
            self.wire(">", cmd)
            self.unit.advance(now * self.speed, now)
            reply = self.unit.handle(cmd, now)
            if length == 1:
                buf.clear()  # an unknown letter: the rest of the burst means nothing to the unit
            if reply is None:
                continue
            reply = self._noise(reply)
            due = max([now, *(t for t, _ in self._out[-1:])]) + REPLY_LATENCY_S + len(reply) * BYTE_S
            self._out.append((due, reply))

    def _noise(self, reply: bytes) -> bytes:
        if "garbage" not in self.scenarios:
            return reply
        r = self.rng.random()
        if r < GARBAGE_P:
            junk = bytes(self.rng.randrange(0x80, 0x100) for _ in range(self.rng.randint(1, 4)))
            self._fault("garbage", bytes=junk.hex(), rejected=1)
            return junk + reply
        if r < GARBAGE_P + BAD_CRC_P and len(reply) > 1:
            self._fault("bad_checksum", rejected=1)
            return reply[:-1] + bytes([reply[-1] ^ 0x01])
        return reply

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + 1.0
        while view and time.monotonic() < deadline:
            n = self.transport.write(view)
            view = view[n:]
            if not n:
                time.sleep(0.001)

    def _scenarios(self, real: float) -> None:
        unit_now = real * self.speed
        if self.panel_start is not None and self.panel_at is not None and unit_now >= self.panel_at:
            self.panel_start(unit_now)
            self.panel_start = None
        at = self.scenario_at
        if "coil-unplugged" in self.scenarios and "coil" not in self._done and unit_now >= at:
            self._done.add("coil")
            self.unit.coil_present = False
            self._coil_back_at = real + COIL_OFF_REAL_S
            self._fault("coil_unplugged")
        if self._coil_back_at is not None and real >= self._coil_back_at:
            self._coil_back_at = None
            self.unit.coil_present = True
            self._fault("coil_plugged")
        if "cable-pulled" in self.scenarios and "cable" not in self._done and unit_now >= at:
            self._done.add("cable")
            self._fault("cable_pulled")
            with contextlib.suppress(OSError):
                self.transport.disconnect()
            self._host_left()
            self._back_at = real + UNPLUG_REAL_S
