"""What a Magstim unit is: its models, reply sizes per software version, timing and Rapid energy rules.

Pure data and arithmetic shared by the codec (how long a reply is), the
adapter (what it may ask of the unit) and the simulator (what the unit
enforces), so the three can never disagree. Sources are in
shared/protocol/VENDORS.md §1.2 (MAGPY, rapid.m, the removed virtual unit).
"""

from __future__ import annotations

from typing import NamedTuple

from devices.protocol import ProtocolSpec

MODELS = {"200": "Magstim 200²", "bistim": "BiStim²", "rapid": "Rapid²", "horizon": "Horizon"}
"""The URL's ``model=`` values and the names the console shows."""
PROTO = "Magstim serial"
VENDOR = "Magstim"
BAUD = 9600

ARMING_S = 1.0
"""Arming takes about 1 s before the ready bit sets (MAGPY:586; MAGPY-V:93)."""
AUTO_DISARM_S = 60.0
"""Armed for 1 min without a pulse: the unit disarms itself (MAGPY:590)."""
MAX_COIL_C = 40.0
"""Above this coil temperature the unit disarms and cannot be armed (MAGPY:558)."""
POWER_UP_S_PER_PCT = 0.010
POWER_DOWN_S_PER_PCT = 0.100
KEEPALIVE_ARMED_S = 0.5
KEEPALIVE_IDLE_S = 5.0
MIN_TRAIN_GAP_S = 0.5
"""Rapid: at least 0.5 s between trains (MAGPY:819, MAGIC #27)."""
REMOTE_TIMEOUT_ARMED_S = 1.0
"""The removed virtual unit dropped remote control and disarmed 1 s after the last command while
armed (MAGPY-V:54-56); unverified on hardware, used by the simulator only."""

JOULES = (
    0.0, 0.0, 0.1, 0.2, 0.4, 0.6, 0.9, 1.2, 1.6, 2.0, 2.5, 3.0, 3.6, 4.3, 4.9, 5.7, 6.4, 7.3, 8.2, 9.1,
    10.1, 11.1, 12.2, 13.3, 14.5, 15.7, 17.0, 18.4, 19.7, 21.2, 22.7, 24.2, 25.8, 27.4, 29.1, 30.8,
    32.6, 34.5, 36.4, 38.3, 40.3, 42.3, 44.4, 46.6, 48.8, 51.0, 53.3, 55.6, 58.0, 60.5, 63.0, 65.5,
    68.1, 70.7, 73.4, 76.2, 79.0, 81.8, 84.7, 87.7, 90.7, 93.7, 96.8, 100.0, 103.2, 106.4, 109.7,
    113.0, 116.4, 119.9, 123.4, 126.9, 130.5, 134.2, 137.9, 141.7, 145.5, 149.3, 153.2, 157.2, 161.2,
    165.2, 169.3, 173.5, 177.7, 181.9, 186.3, 190.6, 195.0, 199.5, 204.0, 208.5, 213.1, 217.8, 222.5,
    227.3, 232.1, 236.9, 241.9, 246.8, 252.0,
)
"""Joules per pulse by power (% MSO), Rapid (magpy rapid_system_info.yaml; rapid.m:22-31)."""

MAX_FREQ_HZ = (
    *([50] * 31), 46, 45, 44, 42, 41, 41, 39, 39, 38, 37, 36, 34, 33, 33, 33, 33, 33, 32, 31, 30, 30,
    29, 29, 28, 28, 27, 27, 26, 26, 25, 25, 24, 24, 23, 23, 22, 22, 21, 21, 20, 20, 20, 20, 19, 19, 19,
    19, 19, 18, 18, 18, 18, 18, 18, 17, 17, 17, 17, 17, 17, 17, 16, 16, 16, 16, 16, 16, 15, 15, 15,
)
"""Highest rTMS frequency by power, Rapid² on 240 V (the same yaml, maxFrequency[240][0])."""

# instrument status bits, bit 0 upwards (MAGPY:303-310)
STANDBY, ARMED, READY, COIL_PRESENT, REPLACE_COIL, ERROR_PRESENT, ERROR_TYPE, REMOTE = (
    1 << i for i in range(8))
# the Rapid's second status byte (MAGPY:317-324)
ENHANCED, TRAIN, WAIT, SINGLE_PULSE, HVPSU, COIL_READY, THETA_PSU, MODIFIED_COIL = (1 << i for i in range(8))
RAPID_STATUS_LETTERS = frozenset("\\[DB^_xn")
"""Replies that carry the Rapid's second status byte (rapid.m:466; ``n`` per MAGIC #2)."""


class Unit(NamedTuple):
    """The kind of unit on the line: model key and software version (Rapid family only)."""

    model: str
    version: tuple[int, int, int] | None = None

    @property
    def rapid(self) -> bool:
        return self.model in ("rapid", "horizon")

    @property
    def needs_unlock(self) -> bool:
        return self.rapid and self.version is not None and self.version >= (9, 0, 0)

    @property
    def v(self) -> tuple[int, int, int]:
        return self.version or (0, 0, 0)


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``"9.4.0"`` -> (9, 4, 0); None when it is not a version."""
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        return None
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    return nums[0], nums[1], nums[2]


def digits(unit: Unit, letter: str) -> int:
    """ASCII digits a Rapid command carries for ``letter`` (B, D, [, n) at this software version."""
    v = unit.v
    return {"B": 4, "D": 5 if v >= (9,) else 4, "[": 4 if v >= (9,) else 3,
            "n": 5 if v >= (10,) else 4}[letter]


def reply_length(unit: Unit, letter: str) -> int | None:
    """Total bytes of a good reply to ``letter`` (CRC included); None for ``N`` (ends at NUL).

    0 means the unit has no such command (it answers ``?``).
    """
    v = unit.v
    if letter in "QREb@":
        return 3
    if letter == "F":
        return 9
    if letter == "N":
        return None if unit.rapid else 0
    if not unit.rapid:
        if letter == "J":
            return 12
        if letter in "ACYZX":
            return (4 if letter == "X" else 3) if unit.model == "bistim" else 0
        return 0
    if letter == "\\":
        return 24 if v >= (9,) else 22 if v >= (7,) else 21
    if letter in "BD[^_":
        return 4
    if letter == "I":
        return 6
    if letter == "x":
        return 6 if v >= (9,) else 0
    if letter == "n":
        return (6 if v >= (10,) else 4) if v >= (9,) else 0
    if letter == "o":
        return (8 if v >= (10,) else 7) if v >= (9,) else 0
    return 0


def rapid_param_widths(unit: Unit) -> tuple[int, int, int, int, int]:
    """Digits of power, frequency×10, pulses, duration×10 and wait×10 in a ``\\@`` reply."""
    v = unit.v
    if v >= (9,):
        return 3, 4, 5, 4, 4
    if v >= (7,):
        return 3, 4, 4, 3, 4
    return 3, 4, 4, 3, 3


def min_wait_s(power: int, pulses: int, freq_hz: float) -> float:
    """Rapid: the least rest after a train (MAGPY:847-857)."""
    j = JOULES[max(0, min(power, 100))]
    return max(MIN_TRAIN_GAP_S, pulses * (freq_hz * j - 1050.0) / (1050.0 * freq_hz))


def max_on_time_s(power: int, freq_hz: float) -> float:
    """Rapid: the longest train at this power and frequency."""
    j = JOULES[max(0, min(power, 100))]
    return float("inf") if j == 0 else 63000.0 / (freq_hz * j)


def train_problem(power: int, freq_hz: float, pulses: int, rest_s: float) -> str | None:
    """Why a Rapid may not run trains of ``pulses`` at ``freq_hz`` and ``power`` with ``rest_s``
    between them (one sentence), or None when the energy rules allow it."""
    top = MAX_FREQ_HZ[max(0, min(power, 100))]
    if freq_hz > top:
        return (f"the Rapid cannot run {freq_hz:g} Hz at {power}% power: its highest frequency at that "
                f"power is {top} Hz.")
    on = pulses / freq_hz
    most = max_on_time_s(power, freq_hz)
    if on > most:
        return (f"a train of {pulses} pulses at {freq_hz:g} Hz lasts {on:.1f} s, longer than the "
                f"Rapid allows at {power}% power ({most:.1f} s).")
    wait = min_wait_s(power, pulses, freq_hz)
    if rest_s < wait:
        return (f"the rest between trains ({rest_s:g} s) is shorter than the Rapid needs after "
                f"{pulses} pulses at {freq_hz:g} Hz and {power}% power ({wait:.1f} s).")
    return None


def refire_s(unit: Unit, power: int) -> float:
    """Least time between single pulses on a 200² or BiStim (the virtual unit's rule, unverified)."""
    if unit.model == "bistim":
        return 4.0
    return 2.0 if power < 50 else 3.0 if power < 80 else 4.0


def settle_s(old: int, new: int) -> float:
    """Time the unit takes to reach a new power: 10 ms per % up, 100 ms per % down."""
    return (new - old) * POWER_UP_S_PER_PCT if new >= old else (old - new) * POWER_DOWN_S_PER_PCT


THETA_BURST_WORDS = (
    "Magstim units cannot run theta burst (iTBS/cTBS) over the serial line (no such command exists, "
    "and serial-fired trains under 0.5 s apart are dropped): start it from the stimulator or its "
    "trigger input, and record the session with control=0."
)


def load_problem(unit: Unit, spec: ProtocolSpec, power: int | None) -> str | None:
    """Why the console may not run ``spec`` on this unit over serial (one sentence), or None."""
    if spec.burst > 1:
        return THETA_BURST_WORDS
    problem = spec.problem()
    if problem:
        return f"The protocol cannot run: {problem}."
    if spec.trains > 1 and spec.iti_s >= AUTO_DISARM_S - 5:
        return (f"A rest of {spec.iti_s:g} s between trains is too long: the stimulator disarms itself "
                f"after {AUTO_DISARM_S:g} s armed without a pulse.")
    if not unit.rapid:
        gap = spec.train_s + spec.iti_s
        need = refire_s(unit, power if power is not None else 100)
        if spec.pulses_per_train != 1 or gap < need:
            return (f"A {MODELS[unit.model]} fires single pulses at most every {need:g} s: it cannot run "
                    f"{spec.pulses_per_train} pulse(s) per train every {gap:g} s.")
        return None
    if abs(spec.freq_hz * 10 - round(spec.freq_hz * 10)) > 1e-9:
        return f"The Rapid sets its frequency in steps of 0.1 Hz; {spec.freq_hz:g} Hz is not one."
    tenths = round(spec.train_s * 10)
    if tenths >= 10 ** digits(unit, "["):
        return f"A train of {spec.train_s:g} s is longer than this Rapid's software can set."
    if spec.trains > 1 and spec.iti_s < MIN_TRAIN_GAP_S:
        return (f"The Rapid needs at least {MIN_TRAIN_GAP_S:g} s between trains; the protocol rests "
                f"{spec.iti_s:g} s.")
    if power is not None:
        problem = train_problem(power, spec.freq_hz, spec.pulses_per_train,
                                spec.iti_s if spec.trains > 1 else float("inf"))
        if problem:
            return problem[0].upper() + problem[1:]
    return None
