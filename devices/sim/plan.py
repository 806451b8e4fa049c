"""A stimulation protocol's run timing, exactly as TSCP.md "Timing of a run" says.

Pure functions of the protocol: the simulator schedules every train and pulse
from this plan in *run time* (milliseconds of active stimulation since START;
pauses and faults stop that clock), so pulse times never drift and tests can
compute the times a device must produce from the same rules.
"""

from __future__ import annotations

from typing import NamedTuple

from devices.protocol import BURST_PULSE_MS, ProtocolSpec
from resources import load_json


def load_presets() -> dict[str, ProtocolSpec]:
    """Presets of resources/protocols.json by key; ValueError names a bad one."""
    data = load_json("protocols.json")
    out: dict[str, ProtocolSpec] = {}
    for key, p in data.get("presets", {}).items():
        try:
            spec = ProtocolSpec.from_mapping(p)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"protocols.json: preset {key!r} is incomplete or malformed ({e})") from e
        problem = spec.problem()
        if problem:
            raise ValueError(f"protocols.json: preset {key!r}: {problem}")
        out[key] = spec
    return out


class RunEvent(NamedTuple):
    """One thing that happens at ``run_ms`` of active run time."""

    run_ms: int
    kind: str  # TRAIN_START, PULSE, TRAIN_END, EOS, MARK
    train: int  # 1-based train number (0 for EOS/MARK)
    arg: int | str  # planned pulses (TRAIN_START), pulse index in train (PULSE), mark name (MARK)


class RunPlan:
    """When every train, pulse and the end fall, in run milliseconds from START.

    rTMS: pulse j of a train at j/freq; theta burst: burst j//3 at (j//3)/freq,
    pulses 20 ms apart inside it. A train lasts pulses/freq (bursts/freq for
    theta burst) from its first pulse and the next starts ``iti_s`` after it
    ends, so 10 Hz x 40 with 26 s ITI starts trains every 30 s.
    """

    def __init__(self, spec: ProtocolSpec) -> None:
        self.spec = spec
        period = 1000.0 / spec.freq_hz
        b = spec.burst
        self.pulse_offsets_ms: tuple[int, ...] = tuple(
            round((j // b) * period) + (j % b) * BURST_PULSE_MS for j in range(spec.pulses_per_train)
        )
        train_ms = (spec.pulses_per_train // b) * period
        self.train_ms = round(train_ms)
        self.train_starts_ms: tuple[int, ...] = tuple(
            round(i * (train_ms + spec.iti_s * 1000.0)) for i in range(spec.trains)
        )
        self.length_ms = self.train_starts_ms[-1] + self.train_ms
        self.total_pulses = spec.pulses_per_train * spec.trains

    def pulse_times_ms(self) -> list[int]:
        """Run time of every pulse, in order (what a test expects to see)."""
        return [s + o for s in self.train_starts_ms for o in self.pulse_offsets_ms]

    def events(self, marks: dict[str, float] | None = None) -> list[RunEvent]:
        """Every event of the run in order; ``marks`` adds named points at fractions of the run."""
        out: list[tuple[int, int, int, RunEvent]] = []
        order = 0
        ppt = self.spec.pulses_per_train
        for i, start in enumerate(self.train_starts_ms, 1):
            out.append((start, 0, order, RunEvent(start, "TRAIN_START", i, ppt)))
            order += 1
            for j, off in enumerate(self.pulse_offsets_ms):
                out.append((start + off, 0, order, RunEvent(start + off, "PULSE", i, j)))
                order += 1
            end = start + self.train_ms
            out.append((end, 0, order, RunEvent(end, "TRAIN_END", i, ppt)))
            order += 1
        out.append((self.length_ms, 2, order, RunEvent(self.length_ms, "EOS", 0, 0)))
        for name, frac in (marks or {}).items():
            at = min(round(frac * self.length_ms), self.length_ms)
            out.append((at, 1, order, RunEvent(at, "MARK", 0, name)))
            order += 1
        out.sort()
        return [e[3] for e in out]
