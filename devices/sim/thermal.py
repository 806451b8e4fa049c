"""Coil temperature: each pulse adds heat, the coil cools exponentially towards ambient.

Closed form between pulses, so the temperature at any device time, and the
time the coil will have cooled to a given temperature, are exact: the
over-temperature fault clears at a computed instant, not a polled one.
"""

from __future__ import annotations

import math

from devices.sim.settings import Thermal


class CoilThermal:
    def __init__(self, s: Thermal) -> None:
        self.s = s
        self._temp = s.start_c
        self._t = 0
        self.boost_c: float | None = None
        """Heat per pulse while the overheat scenario runs (replaces the normal heating)."""

    def temp(self, t: int) -> float:
        dt = max(t - self._t, 0) / 1000.0
        return self.s.ambient_c + (self._temp - self.s.ambient_c) * math.exp(-dt / self.s.tau_s)

    def pulse(self, t: int, mso: int) -> float:
        """A pulse at ``t``: the temperature right after it."""
        heat = self.boost_c if self.boost_c is not None else self.s.heat_per_pulse_c * (mso / 100.0) ** 2
        self._temp = self.temp(t) + heat
        self._t = t
        return self._temp

    def overheated(self, t: int) -> bool:
        return self.temp(t) > self.s.fault_above_c

    def cooled_at(self, t: int) -> int:
        """First device ms at or after ``t`` when the coil is below the clear temperature."""
        now = self.temp(t)
        target = self.s.clear_below_c
        if now < target:
            return t
        amb = self.s.ambient_c
        dt = self.s.tau_s * math.log((now - amb) / (target - amb))
        out = t + math.ceil(dt * 1000.0)
        while self.temp(out) >= target:  # guard against rounding at the boundary
            out += 1
        return out
