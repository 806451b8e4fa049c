"""The simulated MagPro itself: its state, its answers, and the protocol it runs from its front panel.

Pure and clocked from outside: :meth:`SimMagPro.advance` produces everything due up to a device
time (in order, each at its own time), :meth:`SimMagPro.handle` takes one host payload and
schedules the unit's answer 20-40 ms later (MagProController: replies arrive "typically in 20-80
ms"). Nothing here sleeps or touches a port, so the same seed and the same host input at the same
device times give the same bytes.

What it sends, as public clients saw it (VENDORS.md §1.1): status replies 00/05; on an amplitude
change (a command, or the front panel) ID 01; on enable/disable the three packets 01, 03, 01; ID
02 (di/dt) after every pulse; ID 08 when a train starts or stops and when the page changes; ID 03
when the coil changes. It answers both command layouts (a and b) unless told one. It sends no end
of session: after the last train the unit simply stays enabled and quiet. A malformed or unknown
command is ignored (no NAK exists in any source).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devices.magventure import messages as msg
from devices.magventure.frames import encode_frame
from devices.protocol import ProtocolSpec
from devices.sim.plan import RunPlan

SCENARIOS = ("drift", "coil-unplugged", "garbage", "unplug", "front-panel")
MODEL_NAMES = ("r30", "x100", "r30-option", "x100-option", "r30-option-mono", "mst")

UNPLUG = b""
"""Marker in :meth:`SimMagPro.advance`'s output: the cable is pulled now."""

AUTOSTART_MS = 1000
REPLY_MS = (20, 40)
AMBIENT_C = 23.0
START_C = 25.0
COOLING_TAU_S = 300.0
HEAT_PER_PULSE_C = 0.004
"""At 100 % amplitude; a 3000-pulse session at 60 % warms the coil by a few degrees."""
DRIFT_HEAT_PER_PULSE_C = 0.1
"""The drift scenario: a coil without cooling heats by tens of degrees over the same session."""
DIDT_PER_PERCENT = 1.6
COIL_TYPE = 72  # C-B60
SCENARIO_AT = {"front-panel": 0.4, "unplug": 0.5, "coil-unplugged": 0.6}
"""When a scenario strikes, as a fraction of the protocol run."""
UNPLUG_MS = 3000
COIL_OUT_MS = 4000
FRONT_PANEL_STEP = 3
GARBAGE_EVERY_MS = (2000, 6000)


@dataclass
class SimOptions:
    protocol: ProtocolSpec | None
    mso: int = 60
    model: int = 3
    serial: int = 51234
    seed: int = 1
    autostart: bool = False
    layout: str = "ab"
    scenarios: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


class SimMagPro:
    def __init__(self, options: SimOptions, record: Callable[[dict[str, Any]], None]) -> None:
        self.o = options
        self.record = record
        self.rng = random.Random(options.seed)
        self.now = 0
        self.amp = options.mso
        self.enabled = False
        self.page = 1
        self.running = False
        self.coil = COIL_TYPE
        self.count = 0
        self.spec = options.protocol
        self.train_fields = _train_fields(options.protocol)
        self._temp = START_C
        self._temp_t = 0
        self._heat = DRIFT_HEAT_PER_PULSE_C if "drift" in options.scenarios else HEAT_PER_PULSE_C
        self._queue: list[tuple[int, int, str, Any]] = []
        self._order = 0
        self._run_gen = 0
        self._started = False
        self._junk = b""

    # --- scheduling ----------------------------------------------------------------------------
    def _at(self, t: int, kind: str, arg: Any = None) -> None:
        self._order += 1
        heapq.heappush(self._queue, (t, self._order, kind, arg))

    def next_t(self) -> int | None:
        return self._queue[0][0] if self._queue else None

    def host_attached(self) -> None:
        """A host opened the port for the first time: the technician's start, if asked for."""
        if self._started:
            return
        self._started = True
        if self.o.autostart and self.spec is not None:
            self._at(self.now + AUTOSTART_MS, "front_start")
        if "garbage" in self.o.scenarios:
            self._at(self.now + self.rng.randint(*GARBAGE_EVERY_MS), "garbage")

    def advance(self, t: int) -> list[bytes]:
        """Everything due up to device time ``t``, in order (frames, or :data:`UNPLUG`)."""
        out: list[bytes] = []
        queue = self._queue
        while queue and queue[0][0] <= t:
            at, _, kind, arg = heapq.heappop(queue)
            self.now = at
            sent = len(out)
            self._do(kind, arg, out)
            if out and out[-1] == UNPLUG:
                return out
            if self._junk and len(out) > sent:
                junk, self._junk = self._junk, b""
                self.record({"kind": "garbage", "device_t": at, "bytes": len(junk), "rejected": 1})
                out.insert(sent, junk)
        self.now = max(self.now, t)
        return out

    # --- what happens --------------------------------------------------------------------------
    def _do(self, kind: str, arg: Any, out: list[bytes]) -> None:
        if kind == "send":
            out.append(encode_frame(arg))
        elif kind == "run":
            gen, event = arg
            if gen == self._run_gen:
                self._run_event(event, out)
        elif kind == "action":
            arg(out)
        elif kind == "front_start":
            if not self.enabled:
                self._enable(True, out)
            self._start_run(out)
        elif kind == "front_panel":
            self.amp = min(100, self.amp + FRONT_PANEL_STEP)
            self.record({"kind": "front_panel", "device_t": self.now, "mso": self.amp})
            out.append(encode_frame(self._p01()))
        elif kind == "unplug":
            self.record({"kind": "unplug", "device_t": self.now, "duration_ms": UNPLUG_MS})
            out.append(UNPLUG)
        elif kind == "coil_out":
            self.record({"kind": "coil_unplugged", "device_t": self.now})
            self.coil = 0
            self._stop_run(out)
            self.enabled = False
            out.append(encode_frame(self._p03()))
            self._at(self.now + COIL_OUT_MS, "coil_in")
        elif kind == "coil_in":
            self.record({"kind": "coil_plugged", "device_t": self.now})
            self.coil = COIL_TYPE
            out.append(encode_frame(self._p03()))
        elif kind == "garbage":
            # noise, or one of the unit's packets with a corrupted CRC; sent just before the next
            # frame, so a receiver knows where it ends and rejects it exactly once
            junk = bytes(self.rng.choice(_NOT_FE) for _ in range(self.rng.randint(3, 12)))
            if self.rng.random() < 0.5:
                frame = bytearray(encode_frame(self._p01()))
                frame[-2] ^= 0x5A
                junk = bytes(frame)
            self._junk = junk
            self._at(self.now + self.rng.randint(*GARBAGE_EVERY_MS), "garbage")

    def _run_event(self, event: Any, out: list[bytes]) -> None:
        if event.kind == "TRAIN_START":
            self.running = True
            out.append(encode_frame(self._p08()))
        elif event.kind == "PULSE":
            out.append(encode_frame(self._fire()))
        elif event.kind == "TRAIN_END":
            self.running = False
            out.append(encode_frame(self._p08()))
        elif event.kind == "MARK":
            self._at(self.now, str(event.arg))
        elif event.kind == "EOS":
            self.record({"kind": "run_complete", "device_t": self.now, "pulses": self.count})

    def _start_run(self, out: list[bytes]) -> None:
        if self.spec is None or not self.enabled or self.coil == 0:
            return
        self._run_gen += 1
        if self.page != 2:
            self.page = 2
            out.append(encode_frame(self._p08()))
        marks = {name: SCENARIO_AT[name] for name in SCENARIO_AT if name in self.o.scenarios}
        plan = RunPlan(self.spec)
        start = self.now
        for event in plan.events({_MARK_KIND[k]: v for k, v in marks.items()}):
            self._at(start + event.run_ms, "run", (self._run_gen, event))
        self.record({"kind": "run_started", "device_t": self.now, "planned": plan.total_pulses})

    def _stop_run(self, out: list[bytes]) -> None:
        self._run_gen += 1
        if self.running:
            self.running = False
            out.append(encode_frame(self._p08()))

    def _enable(self, on: bool, out: list[bytes]) -> None:
        self.enabled = on and self.coil != 0
        if not self.enabled:
            self._stop_run(out)
        out += [encode_frame(self._p01()), encode_frame(self._p03()), encode_frame(self._p01())]

    def _fire(self) -> bytes:
        self.count += 1
        temp = self.temp() + self._heat * (self.amp / 100.0) ** 2
        self._temp, self._temp_t = temp, self.now
        didt = max(0, min(255, round(self.amp * DIDT_PER_PERCENT) + self.rng.randint(-1, 1)))
        return bytes((0x02, didt, 0, self.sb()))

    def temp(self) -> float:
        dt = max(self.now - self._temp_t, 0) / 1000.0
        return AMBIENT_C + (self._temp - AMBIENT_C) * math.exp(-dt / COOLING_TAU_S)

    # --- the host's commands -------------------------------------------------------------------
    def handle(self, payload: bytes) -> bool:
        """One host payload; False when the unit ignores it (unknown, malformed, other layout)."""
        command = msg.decode_command(payload)
        if command is None or not self._layout_ok(command):
            return False
        reply: list[bytes] = []
        cid, data = command.cmd_id, command.data
        if cid == 0x00:
            reply.append(self._status(long=False))
        elif cid == 0x05:
            reply.append(self._status(long=True))
        elif cid == 0x01:
            self.amp = data[0]
            reply.append(self._p01())
        elif cid == 0x02:
            self._reply_later(lambda out: self._enable(bool(data[0]), out))
            return True
        elif cid == 0x03:
            if self.enabled and self.coil and not self.running:
                reply.append(self._fire())
        elif cid == 0x04:
            self._reply_later(self._start_run)
            return True
        elif cid == 0x07:
            self.page = data[0]
            reply.append(self._p08())
        elif cid == 0x06:
            self.train_fields = _u16s(data)
            self._spec_from_fields()
            reply.append(self._p08())
        elif cid == 0x08:
            reply.append(self._p08())
        elif cid == 0x09:
            reply.append(bytes((0x09, 0, self.o.model, 0, 0, self.waveform(), 2, 200, 0, 0)))
        elif cid == 0x0A:
            reply.append(bytes((0x0A, 0, 0, 0, 0, 0, 0, 0)))
        elif cid == 0x0B:
            if data[0] == 1:
                self.train_fields = _u16s(data[2:10])
                self._spec_from_fields()
            reply.append(self._p0b())
        elif cid == 0x0C:
            reply.append(bytes((0x0C, 0, 0, 0, 0, 0, 0, 0, 0)) + self.count.to_bytes(2, "big")
                         + bytes((0, 0, self.page)))
        for payload_out in reply:
            self._at(self.now + self.rng.randint(*REPLY_MS), "send", payload_out)
        return True

    def _reply_later(self, action: Callable[[list[bytes]], None]) -> None:
        self._at(self.now + self.rng.randint(*REPLY_MS), "action", action)

    def _layout_ok(self, command: msg.HostCommand) -> bool:
        if command.cmd_id in (0x06, 0x08) or (command.cmd_id == 0x07 and len(command.data) == 2):
            return "a" in self.o.layout
        if command.cmd_id in (0x0A, 0x0B, 0x0C) or (command.cmd_id == 0x07 and len(command.data) == 1):
            return "b" in self.o.layout
        return True

    def _spec_from_fields(self) -> None:
        rate, pulses, trains, iti = self.train_fields
        self.spec = ProtocolSpec("front panel", rate / 10.0, pulses, trains, iti / 10.0, 1)

    # --- packets -------------------------------------------------------------------------------
    def waveform(self) -> int:
        return 3 if self.spec is not None and self.spec.burst > 1 else 1

    def sb(self) -> int:
        return (self.o.model << 5) | (0x10 if self.enabled else 0) | (self.waveform() << 2)

    def reported_temp(self) -> int:
        return max(0, min(msg.TEMP_MAX_C, round(self.temp())))

    def _status(self, long: bool) -> bytes:
        s = self.o.serial
        body = bytes((self.sb(), (s >> 16) & 0xFF, (s >> 8) & 0xFF, s & 0xFF, self.reported_temp(),
                      self.coil, self.amp, 0))
        if not long:
            return b"\x00" + body
        return b"\x05" + body + bytes((self.amp, 0, 100, 100, self.page, int(self.running)))

    def _p01(self) -> bytes:
        return bytes((0x01, self.amp, 0, self.sb()))

    def _p03(self) -> bytes:
        return bytes((0x03, self.reported_temp(), self.coil, self.sb()))

    def _p08(self) -> bytes:
        return bytes((0x08, self.page, int(self.running), self.sb()))

    def _p0b(self) -> bytes:
        rate, pulses, trains, iti = self.train_fields
        return (b"\x0b\x00\x00" + b"".join(v.to_bytes(2, "big") for v in (rate, pulses, trains, iti))
                + b"\x00\x00\x00")


_NOT_FE = [b for b in range(256) if b != 0xFE]
_MARK_KIND = {"front-panel": "front_panel", "unplug": "unplug", "coil-unplugged": "coil_out"}


def _u16s(data: bytes) -> tuple[int, int, int, int]:
    a, b, c, d = (int.from_bytes(data[i:i + 2], "big") for i in (0, 2, 4, 6))
    return a, b, c, d


def _train_fields(spec: ProtocolSpec | None) -> tuple[int, int, int, int]:
    if spec is None:
        return 10, 10, 1, 10
    bursts = max(spec.pulses_per_train // max(spec.burst, 1), 1)
    return round(spec.freq_hz * 10), bursts, spec.trains, round(spec.iti_s * 10)
