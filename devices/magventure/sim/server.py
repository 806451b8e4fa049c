"""The simulated MagPro's event loop: device time against a monotonic clock, served on a pty or TCP.

Device time starts when a host first opens the port and then runs ``speed`` times faster than the
wall clock whether a host listens or not, as a real unit's does: what it sends while nobody holds
the port (a console reconnecting, the cable pulled) is lost, and logged as lost. Each turn
produces everything due up to now in one go; when the host reads slowly, production waits (device
time lags) rather than dropping bytes.

The unplug scenario drains what the host has not read yet, closes the pty (its path disappears;
the ``--link`` symlink is removed), keeps the unit running for a few seconds of device time (its
pulses fired and counted, never heard of), then opens a new pty, re-points the link and prints
the new ``PORT`` line.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import IO, Any

from devices.magventure.frames import FrameSplitter
from devices.magventure.sim.device import UNPLUG, UNPLUG_MS, SimMagPro
from devices.sim.poller import POLLIN, POLLOUT, Poller, hung_up
from devices.sim.transport import HostGone, PtyTransport, TcpTransport

log = logging.getLogger(__name__)

HIGH_WATER = 16 * 1024
MAX_WAIT_S = 0.05
SETTLE_S = 0.1
"""pyserial's open() empties the input buffer: nothing is sent in the first moments of a host."""
DRAIN_S = 1.0
UNPLUG_MIN_WALL_S = 1.0


class Trace:
    """``--trace FILE``: one JSON line per frame each way (hex), for checking a client's bytes."""

    def __init__(self, file: IO[str] | None) -> None:
        self._file = file

    def __call__(self, direction: str, data: bytes, **extra: Any) -> None:
        if self._file is not None:
            self._file.write(json.dumps({"dir": direction, "hex": data.hex(" "), **extra}) + "\n")
            self._file.flush()


class SimServer:
    def __init__(self, device: SimMagPro, transport: PtyTransport | TcpTransport, *, speed: float,
                 announce: Callable[[str], None], record: Callable[[dict[str, Any]], None],
                 trace: Trace) -> None:
        self.device = device
        self.transport = transport
        self.rate = speed * 1000.0
        self.announce = announce
        self.record = record
        self.trace = trace
        self.splitter = FrameSplitter()
        self._out = bytearray()
        self._wall0: float | None = None
        self._attached = False
        self._unplugged_until: float | None = None
        self._lost_pulses = 0
        self.stop = False

    def device_ms(self) -> int:
        return 0 if self._wall0 is None else int((time.monotonic() - self._wall0) * self.rate)

    def run(self) -> int:
        while not self.stop:
            self._turn()
        self.transport.close()
        return 0

    # --- one turn ------------------------------------------------------------------------------
    def _turn(self) -> None:
        if self._unplugged_until is not None:
            self._advance(send=False)
            if time.monotonic() >= self._unplugged_until:
                self._replug()
            else:
                time.sleep(0.01)
            return
        attached = self._check_attached()
        if self._wall0 is None:
            if not attached:
                time.sleep(0.01)
                return
            time.sleep(SETTLE_S)
            self._wall0 = time.monotonic()
            self.device.host_attached()
        if len(self._out) < HIGH_WATER:
            self._advance(send=attached)
            if self._unplugged_until is not None:
                return  # the cable was pulled in that step
        if attached:
            self._write()
        self._wait(attached)

    def _check_attached(self) -> bool:
        attached = self.transport.attached()
        if attached != self._attached:
            self._attached = attached
            log.info("host %s at device time %d ms", "attached" if attached else "detached",
                     self.device.now)
            if not attached:
                self._drop_output("host_detached")
            else:
                self.splitter.reset()
                if self._lost_pulses:  # fired while nobody held the port: the host never hears of them
                    self.record({"kind": "host_attached", "device_t": self.device.now,
                                 "pulses_lost": self._lost_pulses})
                    self._lost_pulses = 0
        return attached

    def _advance(self, send: bool) -> None:
        for frame in self.device.advance(self.device_ms()):
            if frame == UNPLUG:
                self._unplug()
                return
            if send:
                self.trace("device", frame)
                self._out += frame
            elif frame[:1] == b"\xfe" and len(frame) > 2 and frame[2] == 0x02:
                self._lost_pulses += 1

    def _write(self) -> None:
        try:
            while self._out:
                n = self.transport.write(self._out[:65536])
                if n <= 0:
                    return
                del self._out[:n]
        except HostGone:
            self._host_gone()

    def _wait(self, attached: bool) -> None:
        next_t = self.device.next_t()
        if next_t is None or self._wall0 is None:
            wait = MAX_WAIT_S
        else:
            wait = min(max(self._wall0 + next_t / self.rate - time.monotonic(), 0.0), MAX_WAIT_S)
        if not attached:
            time.sleep(min(wait, 0.01) if wait else 0.001)
            return
        p = Poller()
        fd = self.transport.fd
        p.register(fd, POLLIN | (POLLOUT if self._out else 0))
        for _fd, revents in p.poll(int(wait * 1000)):
            if revents & POLLIN:
                self._read()
            elif hung_up(revents):
                self._host_gone()

    def _read(self) -> None:
        try:
            data = self.transport.read()
        except HostGone:
            self._host_gone()
            return
        rejected = self.splitter.rejected
        for payload in self.splitter.split(data):
            if self.splitter.rejected > rejected:
                rejected = self.splitter.rejected
                self.trace("host", self.splitter.rejected_lines[-1], junk=True)
            understood = self.device.handle(payload)
            self.trace("host", payload, understood=understood)

    def _host_gone(self) -> None:
        if isinstance(self.transport, TcpTransport):
            self.transport.disconnect()
        self._attached = False
        self._drop_output("host_detached")

    def _drop_output(self, kind: str) -> None:
        dropped = bytes(self._out)
        self._out.clear()
        if dropped:
            self.record({"kind": kind, "device_t": self.device.now, "bytes_dropped": len(dropped)})

    # --- the cable -----------------------------------------------------------------------------
    def _unplug(self) -> None:
        deadline = time.monotonic() + DRAIN_S
        while self._out and time.monotonic() < deadline:
            self._write()
            time.sleep(0.005)
        while time.monotonic() < deadline and self.transport.unread_by_host():
            time.sleep(0.005)
        self._drop_output("unplug_dropped")
        self.transport.disconnect()
        self._attached = False
        self._unplugged_until = time.monotonic() + max(UNPLUG_MS / self.rate, UNPLUG_MIN_WALL_S)
        log.info("cable pulled at device time %d ms", self.device.now)

    def _replug(self) -> None:
        self._unplugged_until = None
        address = self.transport.reopen()
        self.record({"kind": "replug", "device_t": self.device.now, "port": address})
        self.announce(address)
