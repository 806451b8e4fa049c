"""A stimulation protocol's numbers and the timing that follows from them.

The recorder needs the planned pulses and trains and how long a run lasts
(for the time remaining); the timing rules are TSCP.md's: a train lasts
``pulses_per_train / freq_hz`` seconds (theta burst: ``pulses_per_train /
burst`` bursts at ``freq_hz``), then ``iti_s`` of rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from resources import load_json


class ProtocolSpec(NamedTuple):
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

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ProtocolSpec:
        return cls(
            str(data["name"]), float(data["freq_hz"]), int(data["pulses_per_train"]),
            int(data["trains"]), float(data["iti_s"]), int(data.get("burst", 1)),
        )


def preset(key_or_name: str | None) -> ProtocolSpec | None:
    """The preset of resources/protocols.json by key ("10hz") or full name, or None."""
    if not key_or_name:
        return None
    presets = load_json("protocols.json").get("presets", {})
    data = presets.get(key_or_name)
    if data is None:
        data = next((p for p in presets.values() if p.get("name") == key_or_name), None)
    return None if data is None else ProtocolSpec.from_mapping(data)


def preset_key(spec_or_name: ProtocolSpec | str | None) -> str | None:
    """The preset key ("itbs") whose name matches, or None."""
    if spec_or_name is None:
        return None
    name = spec_or_name.name if isinstance(spec_or_name, ProtocolSpec) else spec_or_name
    for key, data in load_json("protocols.json").get("presets", {}).items():
        if key == name or data.get("name") == name:
            return key
    return None
