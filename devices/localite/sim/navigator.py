"""What the simulated TMS Navigator knows and says, as a function of device time.

Device time (seconds) starts when a host first connects and runs ``speed`` times faster than the
wall clock (the server keeps it). The coil sits on the simulator's target (resources/simulator.json,
head frame), with Gaussian jitter; the scenarios change that along a fixed timeline in device
seconds, so a test knows when to look:

* ``out-of-view`` (3-5 s): the coil's tool leaves the camera: ``coil_N_status`` is ``BLOCKED``
  (pushed once, then answered), and a position request gets Navigator's error answer;
* ``reference-lost`` (7-9 s): the head reference is hidden: ``reference_status`` is ``BLOCKED``
  while positions are still answered (they can no longer be in the head frame);
* ``jitter``: 1 mm and 1° of noise instead of simulator.json's 0.1;
* ``drift``: from 2 s the coil slides away from the target at 1 mm/s and turns at 0.5°/s;
* ``latency``, ``garbage``, ``drop`` and ``close-after-answer`` are the server's
  (:mod:`devices.localite.sim.server`).

Pushed by itself, as the public client saw: di/dt after each pulse (``pulse_hz`` pulses a second),
and the constant ``BLOCKED`` status of the tools not in use (the pointer and the other coil), once
a second. Everything else is an answer to ``{"get": KEY}`` or to a setting.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

from devices.sim.settings import Target, load_settings

OUT_OF_VIEW = (3.0, 5.0)
REFERENCE_LOST = (7.0, 9.0)
DRIFT_AT_S = 2.0
DRIFT_MM_PER_S = 1.0
DRIFT_DEG_PER_S = 0.5
DRIFT_DIRECTION = (0.0, -0.6, -0.8)
DRIFT_AXIS = (1.0, 0.0, 0.0)
JITTER_MM = 1.0
JITTER_DEG = 1.0
NOISE_PERIOD_S = 1.0
SCENARIOS = ("out-of-view", "reference-lost", "jitter", "drift", "latency", "garbage", "drop",
             "close-after-answer")


def encode(obj: dict[str, Any]) -> bytes:
    """One message as Navigator sends it: compact JSON in ASCII, no delimiter."""
    return json.dumps(obj, separators=(", ", ": ")).encode("ascii")


def quat_multiply(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float]:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw)


def axis_angle(axis: tuple[float, float, float], rad: float) -> tuple[float, float, float, float]:
    n = math.sqrt(sum(c * c for c in axis)) or 1.0
    s = math.sin(rad / 2) / n
    return (math.cos(rad / 2), axis[0] * s, axis[1] * s, axis[2] * s)


@dataclass
class SimOptions:
    seed: int = 1
    coil: int = 0
    amplitude: int = 45
    pulse_hz: float = 1.0
    registered: bool = True
    scenarios: tuple[str, ...] = ()


@dataclass
class Truth:
    """The pose last answered, as sent (for the trace: what a test compares the console with)."""

    pose: tuple[float, ...] | None = None
    seen: bool = False
    offset_mm: float = 0.0


@dataclass
class SimNavigator:
    options: SimOptions
    target: Target = field(default_factory=lambda: load_settings().target)

    def __post_init__(self) -> None:
        o = self.options
        self.rng = random.Random(o.seed)
        self.prefix = f"coil_{o.coil}_"
        self.amplitude = o.amplitude
        self.pulses = 0
        self._last_didt = 0
        self.instrument = f"COIL_{o.coil}"
        self.target_index = 1
        self._next_pulse = 1.0 / o.pulse_hz if o.pulse_hz > 0 else math.inf
        self._next_noise = 0.0
        self._was_out = self._was_lost = False
        self.now = 0.0
        self.truth = Truth()
        settings = load_settings()
        jitter = "jitter" in o.scenarios
        self.sigma_mm = JITTER_MM if jitter else settings.pose.sigma_mm
        self.sigma_rad = math.radians(JITTER_DEG if jitter else settings.pose.sigma_deg)

    def has(self, scenario: str) -> bool:
        return scenario in self.options.scenarios

    # --- state at device time ------------------------------------------------------------------
    def coil_out(self, t: float) -> bool:
        return self.has("out-of-view") and OUT_OF_VIEW[0] <= t < OUT_OF_VIEW[1]

    def reference_out(self, t: float) -> bool:
        return self.has("reference-lost") and REFERENCE_LOST[0] <= t < REFERENCE_LOST[1]

    def drift(self, t: float) -> tuple[float, float]:
        """(mm, degrees) the coil has slid from the target by device time ``t``."""
        if not self.has("drift") or t <= DRIFT_AT_S:
            return 0.0, 0.0
        return DRIFT_MM_PER_S * (t - DRIFT_AT_S), DRIFT_DEG_PER_S * (t - DRIFT_AT_S)

    def temperature(self) -> float:
        return round(24.0 + 0.02 * self.pulses, 1)

    def pose(self, t: float) -> tuple[float, ...]:
        """(x, y, z, q0, qx, qy, qz) in the head frame at ``t``, jitter included."""
        tg = self.target
        mm, deg = self.drift(t)
        d = DRIFT_DIRECTION
        n = math.sqrt(sum(c * c for c in d))
        pos = [tg.x + mm * d[0] / n, tg.y + mm * d[1] / n, tg.z + mm * d[2] / n]
        q: tuple[float, ...] = (tg.qw, tg.qx, tg.qy, tg.qz)
        if deg:
            q = quat_multiply(q, axis_angle(DRIFT_AXIS, math.radians(deg)))
        g = self.rng.gauss
        pos = [c + g(0.0, self.sigma_mm) for c in pos]
        tilt = (g(0.0, 1.0), g(0.0, 1.0), g(0.0, 1.0))
        q = quat_multiply(q, axis_angle(tilt, abs(g(0.0, self.sigma_rad))))
        self.truth.offset_mm = mm
        return (round(pos[0], 3), round(pos[1], 3), round(pos[2], 3),
                *(round(c, 6) for c in q))

    def value(self, key: str, t: float) -> Any:
        """The answer to ``{"get": key}``; KeyError for a key Navigator does not know."""
        p = self.prefix
        if key == p + "position":
            x, y, z, qw, qx, qy, qz = self.pose(t)
            return {"q0": qw, "qx": qx, "qy": qy, "qz": qz, "x": x, "y": y, "z": z}
        values: dict[str, Any] = {
            p + "status": "BLOCKED" if self.coil_out(t) else "OK",
            "reference_status": "BLOCKED" if self.reference_out(t) else "OK",
            "patient_registration_status": "REGISTERED" if self.options.registered else "NOT_REGISTERED",
            p + "amplitude": self.amplitude,
            p + "temperature": self.temperature(),
            p + "position_control": {"position_reached": "FALSE" if self.drift(t)[0] > 3 else "TRUE",
                                     "index": self.target_index},
            p + "type": "MagVenture Cool-B65",
            p + "target_index": self.target_index,
            p + "stimulator_connected": "TRUE",
            p + "stimulator_model": {"value": 3, "name": "MagVenture X100 + Option"},
            p + "waveform": {"value": 1, "name": "Biphasic"},
            "current_instrument": self.instrument,
            "navigation_mode": "NAVIGATION",
            "pointer_status": "BLOCKED",
        }
        if key == p + "didt":
            if not self.pulses:
                raise KeyError(key)
            return self._last_didt
        return values[key]

    # --- requests ------------------------------------------------------------------------------
    def handle(self, request: dict[str, Any], t: float) -> bytes | None:
        """Navigator's answer to one request (None: it says nothing, as for an unchanged instrument)."""
        self.now = t
        p = self.prefix
        if len(request) != 1:
            return encode({"error": request})
        key, val = next(iter(request.items()))
        if key == "get":
            if val == p + "position" and self.coil_out(t):
                self.truth.pose, self.truth.seen = None, False
                return encode({"error": request})
            try:
                answer = self.value(str(val), t)
            except KeyError:
                return encode({"error": request})
            if val == p + "position":
                self.truth.pose = tuple(answer[k] for k in ("x", "y", "z", "q0", "qx", "qy", "qz"))
                self.truth.seen = not self.reference_out(t) and self.options.registered
            return encode({str(val): answer})
        if key == p + "amplitude":
            if isinstance(val, int) and not isinstance(val, bool) and 0 <= val <= 100:
                self.amplitude = val
                return encode(request)
            return encode({"error": request})
        if key == "single_pulse":
            if isinstance(val, str) and val.upper() == f"COIL_{self.options.coil}":
                return self._pulse()
            return encode({"error": request})
        if key == "current_instrument":
            if val not in ("NONE", "POINTER", "COIL_0", "COIL_1"):
                return encode({"error": request})
            changed, self.instrument = val != self.instrument, str(val)
            return encode(request) if changed else None  # ctrl-localite issue #3
        if key == p + "target_index":
            if isinstance(val, int) and not isinstance(val, bool) and val > 0:
                self.target_index = val
                return encode(request)
            return encode({"error": request})
        return encode({"error": request})

    # --- what it says by itself ----------------------------------------------------------------
    def advance(self, t: float) -> list[bytes]:
        """Messages due by device time ``t``, in order."""
        self.now = t
        out: list[bytes] = []
        if self.coil_out(t) and not self._was_out:
            out.append(encode({self.prefix + "status": "BLOCKED"}))
        if self.reference_out(t) and not self._was_lost:
            out.append(encode({"reference_status": "BLOCKED"}))
        self._was_out, self._was_lost = self.coil_out(t), self.reference_out(t)
        while self._next_noise <= t:
            self._next_noise += NOISE_PERIOD_S
            other = 1 - self.options.coil
            out.append(encode({"pointer_status": "BLOCKED"}))
            out.append(encode({f"coil_{other}_status": "BLOCKED"}))
        while self._next_pulse <= t:
            self._next_pulse += 1.0 / self.options.pulse_hz
            out.append(self._pulse())
        return out

    def _pulse(self) -> bytes:
        self.pulses += 1
        self._last_didt = max(0, round(self.amplitude * 1.6 + self.rng.gauss(0.0, 0.5)))
        return encode({self.prefix + "didt": self._last_didt})
