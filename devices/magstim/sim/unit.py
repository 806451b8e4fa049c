"""The simulated Magstim unit: what it answers to each command, and what it does by itself.

Pure model, no I/O: :meth:`SimUnit.handle` takes one complete command and
returns the reply bytes (None: the unit stays silent), :meth:`SimUnit.advance`
moves its clock (arming, trains, auto-disarm, temperature, the front-panel
/TTL run). Times are unit seconds (the server scales real time by ``speed``);
the remote-control timeout is kept in real seconds, because it is a link rule.

The rules are those of VENDORS.md §1.2: status byte as it was *before* the
command (the removed virtual unit's rule), arming about 1 s, auto-disarm after
1 min armed without a pulse or above 40 °C, power settling 10 ms/% up and
100 ms/% down, Rapid train energy rules and 0.5 s between trains, silence on
a Rapid v9+ until the right unlock code arrives.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from devices.magstim.codec import checksum, number
from devices.magstim.rules import (
    ARMED,
    ARMING_S,
    AUTO_DISARM_S,
    COIL_PRESENT,
    COIL_READY,
    HVPSU,
    JOULES,
    MAX_COIL_C,
    MAX_FREQ_HZ,
    READY,
    REMOTE,
    REMOTE_TIMEOUT_ARMED_S,
    SINGLE_PULSE,
    STANDBY,
    TRAIN,
    WAIT,
    Unit,
    digits,
    max_on_time_s,
    min_wait_s,
    refire_s,
    settle_s,
)
from devices.protocol import ProtocolSpec
from devices.sim.plan import RunPlan

AMBIENT_C = 24.0
HEAT_PER_JOULE_C = 0.00005
"""Coil heating per joule of a pulse (a made-up figure: a 10 Hz session warms the coil a few °C)."""
COOLING_TAU_S = 900.0
SENSOR_TAU_S = 30.0
"""The coil's temperature sensor follows its windings with a lag: it keeps rising for a while after
the pulses stop, so an over-temperature lasts, as it does on a real coil."""


class SimUnit:
    """One unit's state; ``log(kind, **fields)`` records pulses and injected faults."""

    def __init__(self, unit: Unit, *, unlock: str = "", power: int = 30, seed: int = 1,
                 heat_factor: float = 1.0, log: Callable[..., None] | None = None) -> None:
        self.unit = unit
        self.unlock = unlock.encode("latin-1")
        self.rng = random.Random(seed)
        self.log = log or (lambda kind, **fields: None)
        self.unlocked = not unit.needs_unlock
        self.remote = False
        self.power = power
        self.power_b = power
        self.ipi = 10
        self.settled_at = 0.0
        self.armed_at: float | None = None
        self.last_fire = -1e9
        self.last_command_real = 0.0
        self.coil_present = True
        self.temp_c = AMBIENT_C  # what the sensor reads
        self.winding_c = AMBIENT_C
        self.heat_factor = heat_factor
        self.freq10 = 100
        self.n_pulses = 40
        self.duration10 = 0  # 0: single-pulse mode
        self.enhanced = False
        self.train_due: list[float] = []  # unit times of the current train's pulses not yet delivered
        self.wait_until = 0.0
        self.pulses = 0
        self.now = 0.0
        self.panel_plan: list[tuple[float, int]] | None = None  # (unit time, train) of a TTL run
        self.panel_trains: set[int] = set()

    # --- status bytes -------------------------------------------------------------------------

    def ready(self) -> bool:
        return self.armed_at is not None and self.now - self.armed_at >= ARMING_S

    def instr(self) -> int:
        b = 0
        if self.armed_at is None:
            b |= STANDBY
        elif self.ready():
            b |= READY
        else:
            b |= ARMED
        if self.coil_present:
            b |= COIL_PRESENT
        if self.remote:
            b |= REMOTE
        return b

    def rapid_byte(self) -> int:
        b = HVPSU
        if self.enhanced:
            b |= 1
        if self.train_due:
            b |= TRAIN
        elif self.now < self.wait_until:
            b |= WAIT
        if self.duration10 == 0:
            b |= SINGLE_PULSE
        if self.coil_present:
            b |= COIL_READY
        return b

    # --- time ---------------------------------------------------------------------------------

    def advance(self, now: float, real_now: float) -> None:
        """Move the unit's clock to ``now`` (unit s); ``real_now`` for the remote-control timeout."""
        dt = max(0.0, now - self.now)
        self.now = now
        self.winding_c = AMBIENT_C + (self.winding_c - AMBIENT_C) * math.exp(-dt / COOLING_TAU_S)
        self.temp_c += (self.winding_c - self.temp_c) * (1.0 - math.exp(-dt / SENSOR_TAU_S))
        while self.train_due and self.train_due[0] <= now:
            self._pulse(self.train_due.pop(0), "serial")
        if self.panel_plan:
            self._panel(now)
        if self.armed_at is not None:
            idle = now - max(self.armed_at, self.last_fire)
            if idle > AUTO_DISARM_S and not self.train_due:
                self._disarm("armed for 1 min without a pulse")
            elif self.temp_c > MAX_COIL_C:
                self._disarm(f"coil at {self.temp_c:.1f} °C")
            elif not self.coil_present:
                self._disarm("coil unplugged")
            elif (self.remote and self.panel_plan is None
                  and real_now - self.last_command_real > REMOTE_TIMEOUT_ARMED_S):
                self.remote = False
                self._disarm("no command for 1 s while armed: remote control dropped")

    def _disarm(self, why: str) -> None:
        if self.armed_at is not None:
            self.log("disarm", reason=why, t=round(self.now, 4))
        self.armed_at = None
        self.train_due.clear()

    def _pulse(self, t: float, source: str, train: int | None = None) -> None:
        self.pulses += 1
        self.last_fire = t
        self.winding_c += JOULES[min(self.power, 100)] * HEAT_PER_JOULE_C * self.heat_factor
        self.log("pulse", t=round(t, 4), n=self.pulses, power=self.power, source=source, train=train)

    def start_panel_run(self, spec: ProtocolSpec, at: float) -> None:
        """The protocol started from the front panel or the trigger input (iTBS on a Rapid)."""
        plan = RunPlan(spec)
        self.panel_plan = []
        for i, start in enumerate(plan.train_starts_ms, 1):
            self.panel_plan += [(at + (start + off) / 1000.0, i) for off in plan.pulse_offsets_ms]
        self.armed_at = at - ARMING_S
        self.log("panel_run", t=round(at, 4), protocol=spec.name, pulses=len(self.panel_plan))

    def _panel(self, now: float) -> None:
        plan = self.panel_plan
        assert plan is not None
        while plan and plan[0][0] <= now:
            t, train = plan.pop(0)
            if self.armed_at is None:  # disarmed (hot coil, coil off): the trigger fires nothing
                continue
            self._pulse(t, "ttl", train)
        if not plan:
            self.armed_at = None

    def panel_running(self) -> bool:
        return bool(self.panel_plan)

    # --- commands -----------------------------------------------------------------------------

    def command_length(self, buf: bytes) -> int | None:
        """Bytes of the command starting ``buf`` (None: more are needed to tell; 1: unknown letter)."""
        letter = chr(buf[0])
        if letter == "Q":
            if len(buf) < 2:
                return None
            return 3 if buf[1] == 0x40 or not self.unlock else len(self.unlock) + 2
        if letter in "@AC":
            return 5
        if letter in "BD[n":
            if not self.unit.rapid:
                return 1
            return digits(self.unit, letter) + 2
        if letter in "REJF\\NIxYZX^_bo":
            return 3
        return 1

    def handle(self, cmd: bytes, real_now: float) -> bytes | None:
        """The reply to one complete command, or None when the unit stays silent."""
        letter = chr(cmd[0])
        if not self.unlocked:
            if letter == "Q" and cmd[1:-1] == self.unlock and cmd[-1] == checksum(cmd[:-1]):
                self.unlocked = True
            else:
                return None  # a locked Rapid v9+ answers nothing
        if len(cmd) < 3 or cmd[-1] != checksum(cmd[:-1]):
            return b"?" if len(cmd) < 3 else self._frame(letter, b"?")  # the virtual unit's X?
        self.last_command_real = real_now
        instr = self.instr()  # as it was before the command
        if letter == "N":
            return self.version_reply() if self.unit.rapid else b"?"
        name = {"@": "at", "\\": "params", "[": "duration", "^": "enhance", "_": "plain"}.get(letter, letter)
        handler = getattr(self, "_cmd_" + name, None) if name.isidentifier() else None
        if handler is None:
            return b"?"
        result: bytes | str | None = handler(cmd[1:-1])
        if result == "?" or result == "S":
            return self._frame(letter, str(result).encode())
        if result is None:
            return b"?"
        return self._frame(letter, bytes([instr]) + (result if isinstance(result, bytes) else b""))

    @staticmethod
    def _frame(letter: str, body: bytes) -> bytes:
        raw = letter.encode("latin-1") + body
        return raw + bytes([checksum(raw)])

    def _cmd_Q(self, data: bytes) -> bytes | str:
        self.remote = True
        return b""

    def _cmd_R(self, data: bytes) -> bytes | str:
        self.remote = False
        self._disarm("remote control off")
        return b""

    def _cmd_E(self, data: bytes) -> bytes | str:
        if not self.remote:
            return "S"
        if data == b"B":
            if self.armed_at is not None or not self.coil_present or self.temp_c > MAX_COIL_C:
                return "S"
            self.armed_at = self.now
            return b""
        if data == b"A":
            self._disarm("disarm command")
            return b""
        if data == b"H":
            return self._fire()
        return "?"

    def _fire(self) -> bytes | str:
        now = self.now
        if not self.ready() or self.train_due or now < self.wait_until or now < self.settled_at:
            self.log("refused_fire", t=round(now, 4), ready=self.ready(), settling=now < self.settled_at,
                     waiting=now < self.wait_until or bool(self.train_due))
            return "S"
        if self.unit.rapid and self.duration10 > 0:
            f = self.freq10 / 10.0
            n = self.n_pulses
            if f <= 0 or n <= 0 or n / f > max_on_time_s(self.power, f):
                return "S"
            self.train_due = [now + k / f for k in range(n)]
            self.wait_until = now + n / f + min_wait_s(self.power, n, f)
            self.advance(now, self.last_command_real)
            return b""
        if not self.unit.rapid and now - self.last_fire < refire_s(self.unit, self.power):
            return "S"
        self._pulse(now, "serial")
        return b""

    def _set_power(self, data: bytes, top: int) -> tuple[bool, int]:
        if len(data) != 3 or not data.isdigit() or int(data) > top:
            return False, 0
        return True, int(data)

    def _cmd_at(self, data: bytes) -> bytes | str:
        ok, value = self._set_power(data, 110 if self.enhanced else 100)
        if not ok:
            return "?"
        if not self.remote:
            return "S"
        self.settled_at = self.now + settle_s(self.power, value)
        self.power = value
        return b""

    def _cmd_A(self, data: bytes) -> bytes | str | None:
        if self.unit.model != "bistim":
            return None
        ok, value = self._set_power(data, 100)
        if not ok:
            return "?"
        self.power_b = value
        return b""

    def _cmd_C(self, data: bytes) -> bytes | str | None:
        if self.unit.model != "bistim":
            return None
        if len(data) != 3 or not data.isdigit():
            return "?"
        self.ipi = int(data)
        return b""

    def _cmd_J(self, data: bytes) -> bytes | str | None:
        if self.unit.rapid:
            return None
        return (number(self.power, 3) + number(self.power_b, 3) + number(self.ipi, 3)).encode()

    def _cmd_F(self, data: bytes) -> bytes | str:
        if not self.coil_present:
            return b"000000"
        t = number(min(999, round(self.temp_c * 10)), 3)
        t2 = number(min(999, max(0, round(self.temp_c * 10) - 3)), 3)
        return (t + t2).encode()

    def _cmd_params(self, data: bytes) -> bytes | str | None:
        if not self.unit.rapid:
            return None
        v = self.unit.v
        f = self.freq10 / 10.0
        wait = min_wait_s(self.power, self.n_pulses, f) if f > 0 else 0.5
        widths = (5, 4, 4) if v >= (9,) else (4, 3, 4) if v >= (7,) else (4, 3, 3)
        text = (number(self.power, 3) + number(self.freq10, 4) + number(self.n_pulses, widths[0])
                + number(self.duration10, widths[1]) + number(min(round(wait * 10), 10 ** widths[2] - 1),
                                                              widths[2]))
        return bytes([self.rapid_byte()]) + text.encode()

    def version_reply(self) -> bytes:
        raw = b"NV" + ".".join(str(x) for x in self.unit.v).encode() + b"\x00"
        return raw + bytes([checksum(raw)])

    def _rapid_set(self, data: bytes, letter: str, check: Callable[[int], bool]) -> int | str | None:
        if not self.unit.rapid:
            return None
        if len(data) != digits(self.unit, letter) or not data.isdigit() or not check(int(data)):
            return "?"
        if not self.remote:
            return "S"
        if self.train_due:
            return "S"
        return int(data)

    def _cmd_B(self, data: bytes) -> bytes | str | None:
        top = MAX_FREQ_HZ[min(self.power, 100)] * 10
        value = self._rapid_set(data, "B", lambda x: 0 <= x <= top)
        if not isinstance(value, int):
            return value
        self.freq10 = value
        return bytes([self.rapid_byte()])

    def _cmd_D(self, data: bytes) -> bytes | str | None:
        value = self._rapid_set(data, "D", lambda x: 1 <= x <= 6000)
        if not isinstance(value, int):
            return value
        self.n_pulses = value
        return bytes([self.rapid_byte()])

    def _cmd_duration(self, data: bytes) -> bytes | str | None:
        value = self._rapid_set(data, "[", lambda x: True)
        if not isinstance(value, int):
            return value
        self.duration10 = value
        return bytes([self.rapid_byte()])

    def _cmd_I(self, data: bytes) -> bytes | str | None:
        return b"000" if self.unit.rapid else None

    def _cmd_x(self, data: bytes) -> bytes | str | None:
        if not self.unit.needs_unlock:
            return None
        return bytes([self.rapid_byte(), 0, 0])

    def _cmd_b(self, data: bytes) -> bytes | str | None:
        return b"" if self.unit.rapid else None

    def _cmd_Y(self, data: bytes) -> bytes | str | None:
        return b"" if self.unit.model == "bistim" else None

    _cmd_Z = _cmd_Y

    def _cmd_X(self, data: bytes) -> bytes | str | None:
        return b"0" if self.unit.model == "bistim" else None

    def _cmd_plain(self, data: bytes) -> bytes | str | None:
        if not self.unit.rapid:
            return None
        self.enhanced = False
        self.power = min(self.power, 100)
        return bytes([self.rapid_byte()])

    def _cmd_enhance(self, data: bytes) -> bytes | str | None:
        if not self.unit.rapid:
            return None
        if self.duration10:
            return "S"  # enhanced power only in single-pulse mode
        self.enhanced = True
        return bytes([self.rapid_byte()])

    def _cmd_o(self, data: bytes) -> bytes | str | None:
        if not self.unit.needs_unlock:
            return None
        return number(0, 5 if self.unit.v >= (10,) else 4).encode()

    def snapshot(self) -> dict[str, Any]:
        return {"armed": self.armed_at is not None, "ready": self.ready(), "power": self.power,
                "temp_c": round(self.temp_c, 2), "pulses": self.pulses, "remote": self.remote}
