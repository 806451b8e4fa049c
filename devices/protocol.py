"""A stimulation protocol: the PROTO fields of TSCP/1 and the run timing that follows from them.

One type for everyone who handles a protocol: the simulator runs it, a LOAD
carries it, a PROTO frame reports it (:class:`devices.events.ProtocolLoaded`
converts with ``.spec``), and the clinic's presets and the recorder's time
remaining use it. It lives in the device layer because that is the lowest
layer that needs it (devices may not import the console).

Timing, as TSCP.md "Timing of a run" says: a train lasts ``pulses_per_train
/ freq_hz`` seconds (theta burst: ``pulses_per_train / burst`` bursts at
``freq_hz``), then ``iti_s`` of rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

BURST_PULSE_MS = 20
"""Pulses inside a theta burst are 20 ms apart (50 Hz)."""
MAX_PULSES = 100_000
"""The most pulses a run may have (a stimulator refuses a longer protocol)."""


class ProtocolSpec(NamedTuple):
    """The PROTO fields of TSCP/1: what a LOAD carries, a preset holds and a device reports."""

    name: str
    freq_hz: float
    pulses_per_train: int
    trains: int
    iti_s: float
    burst: int = 1

    @property
    def planned_pulses(self) -> int:
        return self.pulses_per_train * self.trains

    @property
    def train_s(self) -> float:
        """Seconds from a train's first pulse to the start of its rest."""
        per_period = max(self.burst, 1)
        return self.pulses_per_train / per_period / self.freq_hz if self.freq_hz > 0 else 0.0

    @property
    def run_s(self) -> float:
        """Seconds from the first pulse of the first train to the end of the last."""
        if self.trains <= 0:
            return 0.0
        return self.trains * self.train_s + (self.trains - 1) * self.iti_s

    def nominal_elapsed_s(self, pulses_done: int) -> float:
        """Seconds of an uninterrupted run after ``pulses_done`` pulses."""
        if self.pulses_per_train <= 0 or pulses_done <= 0:
            return 0.0
        full, part = divmod(min(pulses_done, self.planned_pulses), self.pulses_per_train)
        elapsed = full * (self.train_s + self.iti_s)
        if part:
            elapsed += self.train_s * part / self.pulses_per_train
        elif full:
            elapsed -= self.iti_s  # the last finished train's rest has not passed yet
        return elapsed

    def remaining_s(self, pulses_done: int) -> float:
        return max(0.0, self.run_s - self.nominal_elapsed_s(pulses_done))

    def problem(self) -> str | None:
        """Why a stimulator would refuse this protocol, or None when it is runnable."""
        if not self.name or any(c in self.name for c in ",$*\r\n"):
            return "name must be text without , $ * or line breaks"
        if self.burst not in (1, 3):
            return "burst must be 1 (rTMS) or 3 (theta burst)"
        if not 0 < self.freq_hz <= 100:
            return "freq_hz must be above 0 and at most 100"
        if self.burst > 1 and 1000 / self.freq_hz <= BURST_PULSE_MS * (self.burst - 1):
            return "bursts overlap: freq_hz too high for theta burst"
        if self.pulses_per_train < 1 or self.pulses_per_train % self.burst:
            return "pulses_per_train must be a positive multiple of burst"
        if self.trains < 1 or self.trains * self.pulses_per_train > MAX_PULSES:
            return f"trains must be at least 1 and the run at most {MAX_PULSES} pulses"
        if not 0 <= self.iti_s <= 3600:
            return "iti_s must be between 0 and 3600"
        return None

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ProtocolSpec:
        """From a preset or JSON dict (``burst`` defaults to 1); KeyError/ValueError when malformed."""
        return cls(
            str(data["name"]), float(data["freq_hz"]), int(data["pulses_per_train"]),
            int(data["trains"]), float(data["iti_s"]), int(data.get("burst", 1)),
        )
