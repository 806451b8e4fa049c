"""What the simulated camera sees at each frame: the head reference and the coil, with scenarios.

A pure function of (frame number, seed, scenarios), so the same seed gives the same poses however
often the host polls. The head sways a little (a few mm, a few degrees, slow sines) and the coil
rides on it: its pose in the head frame is the console's simulator target from
resources/simulator.json, so a session aimed at that target is on target unless a scenario moves
the coil. Scenarios, in device seconds (period ``PERIOD_S``):

* ``out-of-view``: the coil is missing in [4, 5) s and out of the volume in [8, 9) s of each period;
* ``reference-lost``: the head reference is missing in [6, 7.5) s of each period;
* ``jitter``: ten times the usual noise (simulator.json pose.jitter_sigma_mm / _deg);
* ``drift``: from ``drift_start_s`` the coil slides along the head frame's x axis at
  ``drift_mm_s`` up to ``DRIFT_MAX_MM`` (so the on-target share of a session is known in advance).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import NamedTuple

from devices.ndi.headframe import Quat, Vec, compose, normalised, quat_mul
from devices.sim.settings import load_settings

FRAME_HZ = 60
PERIOD_S = 20.0
COIL_MISSING = (4.0, 5.0)
COIL_OUT_OF_VOLUME = (8.0, 9.0)
REFERENCE_MISSING = (6.0, 7.5)
DRIFT_MAX_MM = 40.0
JITTER_FACTOR = 10.0
REFERENCE_Q: Quat = normalised((0.9, 0.3, -0.2, 0.25))
REFERENCE_T: Vec = (25.0, -40.0, -1350.0)
"""The head reference about 1.35 m in front of the camera (its z axis points away from it)."""


class ToolView(NamedTuple):
    """One tool at one frame: pose in camera coordinates, RMS error (mm), and what the camera sees."""

    q: Quat
    t: Vec
    rms: float
    missing: bool
    out_of_volume: bool


@dataclass(frozen=True)
class MotionOptions:
    seed: int = 1
    scenarios: tuple[str, ...] = ()
    drift_start_s: float = 5.0
    drift_mm_s: float = 1.0


def _in(window: tuple[float, float], s: float) -> bool:
    phase = s % PERIOD_S
    return window[0] <= phase < window[1]


def _small_turn(axis: Vec, angle_rad: float) -> Quat:
    half = angle_rad / 2
    n = math.sqrt(sum(a * a for a in axis)) or 1.0
    s = math.sin(half) / n
    return (math.cos(half), axis[0] * s, axis[1] * s, axis[2] * s)


class Motion:
    def __init__(self, options: MotionOptions) -> None:
        self.options = options
        settings = load_settings()
        t = settings.target
        self.target_q: Quat = normalised((t.qw, t.qx, t.qy, t.qz))
        self.target_t: Vec = (t.x, t.y, t.z)
        factor = JITTER_FACTOR if "jitter" in options.scenarios else 1.0
        self.sigma_mm = settings.pose.sigma_mm * factor
        self.sigma_rad = math.radians(settings.pose.sigma_deg) * factor

    def drift_mm(self, s: float) -> float:
        o = self.options
        if "drift" not in o.scenarios or s <= o.drift_start_s:
            return 0.0
        return min((s - o.drift_start_s) * o.drift_mm_s, DRIFT_MAX_MM)

    def coil_in_head(self, frame: int, rng: random.Random) -> tuple[Quat, Vec]:
        """The coil's true pose in the head frame at ``frame`` (target, drift and noise)."""
        s = frame / FRAME_HZ
        g = rng.gauss
        noise_t = (g(0, self.sigma_mm), g(0, self.sigma_mm), g(0, self.sigma_mm))
        turn = _small_turn((g(0, 1), g(0, 1), g(0, 1)), g(0, self.sigma_rad))
        x, y, z = self.target_t
        position = (x + self.drift_mm(s) + noise_t[0], y + noise_t[1], z + noise_t[2])
        return normalised(quat_mul(self.target_q, turn)), position

    def at(self, frame: int) -> tuple[ToolView, ToolView]:
        """(coil, reference) as the camera sees them at ``frame``."""
        rng = random.Random(self.options.seed * 1_000_003 + frame)
        s = frame / FRAME_HZ
        sway_t = (3.0 * math.sin(2 * math.pi * 0.10 * s), 2.0 * math.sin(2 * math.pi * 0.07 * s),
                  4.0 * math.sin(2 * math.pi * 0.05 * s))
        sway_q = _small_turn((0.2, 0.3, 1.0), math.radians(2.0) * math.sin(2 * math.pi * 0.08 * s))
        ref_q, ref_t = compose(REFERENCE_Q, REFERENCE_T, sway_q, sway_t)  # the head moves about itself
        coil_q_head, coil_t_head = self.coil_in_head(frame, rng)
        coil_q, coil_t = compose(ref_q, ref_t, coil_q_head, coil_t_head)
        scenarios = self.options.scenarios
        ref = ToolView(ref_q, ref_t, 0.15 + 0.1 * rng.random(),
                       "reference-lost" in scenarios and _in(REFERENCE_MISSING, s), False)
        coil = ToolView(coil_q, coil_t, 0.20 + 0.15 * rng.random(),
                        "out-of-view" in scenarios and _in(COIL_MISSING, s),
                        "out-of-view" in scenarios and _in(COIL_OUT_OF_VOLUME, s))
        return coil, ref
