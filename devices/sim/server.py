"""The simulator's event loop: device time against a monotonic clock, served over a transport.

Device time starts when a host first attaches and runs ``speed`` times faster
than the wall clock, anchored to one monotonic start (no drift, no per-frame
sleeps): each turn produces every frame due up to now in one go. Frames are
never dropped except on purpose: when the host reads slowly the output buffer
fills, production waits and device time lags behind the clock; while no host
is attached the device clock stands still. A host is taken as ready when it
sends something (the serial adapter sends ``ID?``) or after a short settling
time, because pyserial's ``open()`` flushes whatever arrived before it.

The unplug scenario drains what the host has not read yet, closes the pty,
throws away the next few seconds of device time (the pulses are fired, the
console never hears of them), opens a new pty, re-points the link, and greets
the next host with HELLO at sequence 0.
"""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

from devices.sim.config import SimConfig
from devices.sim.faultlog import FaultLog
from devices.sim.link import FrameLink, Noise
from devices.sim.model import UNPLUG, Out, SimDevice
from devices.sim.poller import POLLIN, POLLOUT, Poller, hung_up
from devices.sim.settings import SimSettings
from devices.sim.transport import HostGone, PtyTransport, TcpTransport
from devices.tscp import HOST_TO_DEVICE, ParseTable, RawCommand, Receiver

log = logging.getLogger(__name__)

HIGH_WATER = 64 * 1024
"""Stop producing frames while this many bytes wait to be written."""
STEP_MS = 1000
"""At most this much device time per production step (bounds a step's work)."""
MAX_WAIT_S = 0.05
DRAIN_STALL_S = 5.0
TCP_LINGER_S = 0.3
PTY_LINGER_S = 0.2


def _set_any(m: re.Match, host_t: float) -> RawCommand:
    """SET with any integer, so that the device can answer an out-of-range value with NAK BAD_VALUE."""
    return RawCommand(host_t, "SET", (int(m.group(1)),))


COMMANDS: ParseTable = {**HOST_TO_DEVICE, "SET": [(re.compile(r"(-?[0-9]+)"), _set_any)]}


class DeviceClock:
    """Device ms from a monotonic anchor; it can stand still (no host) and go on."""

    def __init__(self, speed: float) -> None:
        self.rate = speed * 1000.0
        self._base_t = 0
        self._base_wall: float | None = None

    def run_from(self, t: int) -> None:
        self._base_t = t
        self._base_wall = time.monotonic()

    def hold(self, t: int) -> None:
        self._base_t = t
        self._base_wall = None

    def now_ms(self) -> int:
        if self._base_wall is None:
            return self._base_t
        return self._base_t + int((time.monotonic() - self._base_wall) * self.rate)

    def wall_at(self, t: int) -> float:
        if self._base_wall is None:
            return float("inf")
        return self._base_wall + (t - self._base_t) / self.rate


class _Done(Exception):
    """The device has finished (EOS with --exit-after-eos) or was asked to stop."""


class _Unplugged(Exception):
    """The unplug scenario ended this connection; a new one is awaited."""


class SimServer:
    def __init__(self, config: SimConfig, settings: SimSettings, *, fault_log: FaultLog,
                 announce: Callable[[str], None]) -> None:
        self.config = config
        self.settings = settings
        self.announce = announce
        self.fault_log = fault_log
        self.device = SimDevice(config, settings)
        noise = Noise(settings, config.seed) if "noise" in config.scenarios else None
        self.link = FrameLink(fault_log, noise)
        self.clock = DeviceClock(config.speed)
        self.transport: PtyTransport | TcpTransport = (
            TcpTransport(config.tcp_port) if config.tcp_port is not None else PtyTransport(config.link)
        )
        self.receiver = Receiver(COMMANDS)
        self._out = bytearray()
        self._stop = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    # --- lifecycle -----------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT end the loop cleanly; the wake-up socket interrupts any wait."""
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stop = True

    def request_stop(self) -> None:
        """End the loop cleanly from another thread, as SIGTERM does (the wake-up socket cuts any
        wait short); harmless once the server has closed."""
        self._stop = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def open(self) -> str:
        """Open the pty (or listen on TCP); the address a host should open."""
        return self.transport.open()

    def run(self) -> int:
        """Serve until stopped, or until EOS with --exit-after-eos. Returns the exit status."""
        try:
            while not self._stop:
                initial = self._wait_for_host()
                if initial is None:
                    break
                self._serve(initial)
        except _Done:
            pass
        finally:
            self.link.connection_closed()
            self.transport.close()
            self.fault_log.close()
            self._wake_r.close()
            self._wake_w.close()
        return 0

    def _sleep(self, seconds: float, fds: tuple[int, ...] = ()) -> list[tuple[int, int]]:
        """Wait up to ``seconds`` for input on ``fds``; a signal cuts it short."""
        p = Poller()
        p.register(self._wake_r.fileno(), POLLIN)
        for fd in fds:
            p.register(fd, POLLIN)
        events = p.poll(max(0, int(seconds * 1000)))
        self._clear_wake()
        return events

    def _clear_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        if self._stop:
            raise _Done

    # --- connection ----------------------------------------------------------------
    def _wait_for_host(self) -> bytes | None:
        """Wait until a host is attached and ready; returns what it sent meanwhile."""
        while not self._stop:
            if not self.transport.attached():
                listener = getattr(self.transport, "listener_fd", None)
                self._sleep(0.01, (listener,) if listener is not None else ())
                continue
            fd = self.transport.fd
            deadline = time.monotonic() + self.settings.host_settle_s
            while True:
                left = deadline - time.monotonic()
                events = self._sleep(left, (fd,)) if left > 0 else []
                mine = [ev for f, ev in events if f == fd]
                if mine and hung_up(mine[0]) and not mine[0] & POLLIN:
                    break  # gone again before it was ready
                if mine or left <= 0:
                    try:
                        return self.transport.read() if mine else b""
                    except HostGone:
                        break
            if isinstance(self.transport, TcpTransport):
                self.transport.disconnect()
        return None

    def _serve(self, initial: bytes) -> None:
        """One host connection: HELLO, then frames as device time goes, until the host goes."""
        self.link.connection_opened()
        self.receiver.reset_sequence()
        self._out += self.link.encode(self.device.connection_opened(), scheduled=False)
        self.clock.run_from(self.device.now + 1)
        log.info("host attached at device time %d ms", self.device.now + 1)
        try:
            if initial:
                self._on_input(initial)
            while True:
                self._produce()
                self._write()
                self._wait()
        except HostGone as e:
            self._host_gone(str(e))
        except _Unplugged:
            pass

    def _host_gone(self, why: str) -> None:
        dropped = bytes(self._out)
        self._out.clear()
        self.clock.hold(self.device.now)
        self.link.connection_closed()
        if isinstance(self.transport, TcpTransport):
            self.transport.disconnect()
        self.fault_log.write({"kind": "host_detached", "device_t": self.device.now,
                              "bytes_dropped": len(dropped), "pulses_dropped": dropped.count(b",PULSE,")})
        log.info("host detached at device time %d ms (%s)", self.device.now, why)

    # --- the loop --------------------------------------------------------------------
    def _produce(self) -> None:
        if len(self._out) >= HIGH_WATER:
            return
        target = min(self.clock.now_ms(), self.device.now + STEP_MS)
        if target <= self.device.now:
            return
        outs = self.device.advance(target)
        self._log_records()
        if outs and outs[-1][0] == UNPLUG:
            outs.pop()
            self._out += self.link.encode(outs)
            self._unplug()
            raise _Unplugged
        self._out += self.link.encode(outs)
        if outs and outs[-1][0] == "EOS":
            self._maybe_finish()

    def _log_records(self) -> None:
        for rec in self.device.records:
            self.fault_log.write(rec)
        self.device.records.clear()

    def _maybe_finish(self) -> None:
        if self.config.exit_after_eos:
            self._drain()
            raise _Done

    def _write(self) -> None:
        while self._out:
            n = self.transport.write(self._out[:65536])
            if n <= 0:
                return
            del self._out[:n]

    def _wait(self) -> None:
        if len(self._out) >= HIGH_WATER:
            wait = MAX_WAIT_S
        elif self.device.now < self.clock.now_ms():
            wait = 0.0
        else:
            wait = min(max(self.clock.wall_at(self.device.next_t()) - time.monotonic(), 0.001), MAX_WAIT_S)
        fd = self.transport.fd
        p = Poller()
        p.register(self._wake_r.fileno(), POLLIN)
        p.register(fd, POLLIN | (POLLOUT if self._out else 0))
        listener = getattr(self.transport, "listener_fd", None)
        if listener is not None:
            p.register(listener, POLLIN)
        for f, ev in p.poll(int(wait * 1000 + 0.999) if wait > 0 else 0):
            if f == self._wake_r.fileno():
                self._clear_wake()
            elif f == fd:
                if ev & POLLIN:
                    self._on_input(self.transport.read())
                if hung_up(ev):
                    raise HostGone("hang-up")
            elif f == listener and isinstance(self.transport, TcpTransport):
                self.transport.refuse_others()

    def _on_input(self, data: bytes) -> None:
        frames = self.receiver.feed(data)
        if not frames:
            return
        self._produce()  # answer at the current device time
        for frame in frames:
            cmd = frame.value
            replies: list[Out] = self.device.handle(cmd.command, cmd.args)
            self._out += self.link.encode(replies, scheduled=False)
            if any(r[0] == "EOS" for r in replies):
                self._log_records()
                self._maybe_finish()
        self._log_records()

    # --- draining and unplugging -----------------------------------------------------
    def _drain(self) -> bool:
        """Write everything and wait until the host has read it (or stalls for 5 s)."""
        last_progress = last_write = time.monotonic()
        quiet = 0
        prev_unread = -1
        while True:
            now = time.monotonic()
            if self._out:
                before = len(self._out)
                self._write()
                if len(self._out) < before:
                    last_progress = last_write = now
            elif now - last_write >= 0.02:
                unread = self.transport.unread_by_host()
                if unread == 0:
                    quiet += 1
                    if quiet >= 2:
                        return self._linger()
                else:
                    quiet = 0
                    if unread != prev_unread:
                        last_progress = now
                prev_unread = unread
            if now - last_progress > DRAIN_STALL_S:
                log.warning("the host stopped reading; %d bytes may be lost", len(self._out))
                return False
            fd = self.transport.fd
            p = Poller()
            p.register(self._wake_r.fileno(), POLLIN)
            p.register(fd, POLLIN | (POLLOUT if self._out else 0))
            for f, ev in p.poll(10):
                if f == self._wake_r.fileno():
                    self._clear_wake()
                elif ev & POLLIN:
                    try:
                        self.transport.read()  # the line is going down: input is not answered
                    except HostGone:
                        return False
                elif hung_up(ev):
                    return False

    def _linger(self) -> bool:
        """Give the host a moment before closing, and check again that it read everything.

        On TCP "acknowledged" is not "read": pyserial's socket read drops what it
        gathered when the connection closes under it. On a pty, FIONREAD on the
        slave does not count bytes still in the kernel's flip buffer, so a
        quiet reading can come before the tail (EOS included) reaches the host.
        """
        if not isinstance(self.transport, TcpTransport):
            deadline = time.monotonic() + PTY_LINGER_S
            give_up = time.monotonic() + DRAIN_STALL_S
            while (left := min(deadline, give_up) - time.monotonic()) > 0:
                if self._sleep(left, (self.transport.fd,)):
                    try:
                        self.transport.read()
                    except HostGone:
                        return True
                if self.transport.unread_by_host():
                    deadline = time.monotonic() + PTY_LINGER_S
            return True
        deadline = time.monotonic() + TCP_LINGER_S
        while (left := deadline - time.monotonic()) > 0:
            if self._sleep(left, (self.transport.fd,)):
                try:
                    self.transport.read()
                except HostGone:
                    break
        return True

    def _unplug(self) -> None:
        s = self.settings
        at = self.device.now
        self._drain()
        self._out.clear()
        self.link.connection_closed()
        self.transport.disconnect()
        gone_wall = time.monotonic()
        end = at + s.unplug_ms
        lost: list[Out] = []
        while self.device.now < end - 1:
            lost += self.device.advance(end - 1)
        self.clock.hold(self.device.now)
        counts = [int(p.split(",")[1]) for typ, p in lost if typ == "PULSE"]
        self.fault_log.write({
            "kind": "unplug", "device_t": at, "end_t": end, "frames_lost": len(lost),
            "pulses_lost": len(counts), "first_lost_count": counts[0] if counts else None,
            "last_lost_count": counts[-1] if counts else None,
            "eos_lost": any(typ == "EOS" for typ, _ in lost),
        })
        self._log_records()
        log.info("unplugged at device time %d ms: %d frames, %d pulses lost", at, len(lost), len(counts))
        outage = max(s.unplug_min_wall_s, s.unplug_ms / self.clock.rate)
        while (left := gone_wall + outage - time.monotonic()) > 0:
            self._sleep(left)
        address = self.transport.reopen()
        self.fault_log.write({"kind": "replug", "device_t": end, "port": address,
                              "wall_s": round(time.monotonic() - gone_wall, 3)})
        self.announce(address)
        if any(typ == "EOS" for typ, _ in lost) and self.config.exit_after_eos:
            raise _Done
