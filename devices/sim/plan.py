"""A stimulation protocol and its run timing, exactly as TSCP.md "Timing of a run" says.

Pure functions of the protocol: the simulator schedules every train and pulse
from this plan in *run time* (milliseconds of active stimulation since START;
pauses and faults stop that clock), so pulse times never drift and tests can
compute the times a device must produce from the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from resources import load_json

BURST_PULSE_MS = 20
"""Pulses inside a theta burst are 20 ms apart (50 Hz)."""
MAX_PULSES = 100_000


def fmt_decimal(x: float) -> str:
    """A TSCP decimal: no exponent, no trailing zeros (10.0 -> "10", 2.5 -> "2.5")."""
    s = f"{x:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


@dataclass(frozen=True)
class ProtocolSpec:
    """The PROTO fields of TSCP/1: what a LOAD carries and a preset holds."""

    name: str
    freq_hz: float
    pulses_per_train: int
    trains: int
    iti_s: float
    burst: int

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

    def proto_payload(self, t: int) -> str:
        return ",".join((
            str(t), self.name, fmt_decimal(self.freq_hz), str(self.pulses_per_train),
            str(self.trains), fmt_decimal(self.iti_s), str(self.burst),
        ))


def load_presets() -> dict[str, ProtocolSpec]:
    """Presets of resources/protocols.json by key; ValueError names a bad one."""
    data = load_json("protocols.json")
    out: dict[str, ProtocolSpec] = {}
    for key, p in data.get("presets", {}).items():
        try:
            spec = ProtocolSpec(str(p["name"]), float(p["freq_hz"]), int(p["pulses_per_train"]),
                                int(p["trains"]), float(p["iti_s"]), int(p["burst"]))
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
