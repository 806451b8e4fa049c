"""TSCP/1 codec: frames to bytes and bytes to typed events, exactly as TSCP.md says.

The receiver is pure (bytes in, frames out) so it can be fuzzed, fed test
vectors and benchmarked without a port. It implements the receiver rule of
TSCP.md to the letter: a bad frame is counted and its raw bytes kept, never
turned into a value; a gap in sequence numbers is counted as missing.

Validation and conversion happen in one pass: each frame type has one
compiled regular expression over its fields, so a valid frame costs one
``fullmatch`` and a few ``int``/``float`` calls.
"""

from __future__ import annotations

import binascii
import math
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from devices import events as ev
from devices.protocol import ProtocolSpec

MAX_FRAME = 160
"""Bytes in a frame including ``$`` and CR LF."""
MAX_LINE = MAX_FRAME - 2
"""A line (CR LF removed) longer than this is rejected."""
SEQ_MOD = 65536
REJECTED_KEPT = 50

_U32 = r"([0-9]+)"
_INT = r"(-?[0-9]+)"
_DEC = r"(-?[0-9]+(?:\.[0-9]+)?)"
_STR = r"([^,*$\r\n]+)"


def crc16(body: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): binascii implements exactly this."""
    return binascii.crc_hqx(body, 0xFFFF)


def _check_field(field: str) -> str:
    if any(c in field for c in ",$*\r\n"):
        raise ValueError(f"TSCP field may not contain , $ * CR or LF: {field!r}")
    return field


def encode_frame(seq: int, type_: str, fields: Sequence[object] = ()) -> bytes:
    """One frame as bytes: ``$<seq>,<TYPE>[,<field>...]*<CRC>\\r\\n``.

    ``None`` is written as an empty field; floats should be pre-formatted by the
    caller when a fixed number of decimals matters.
    """
    if not 0 <= seq < SEQ_MOD:
        raise ValueError(f"sequence number out of range: {seq}")
    parts = [str(seq), type_]
    parts.extend("" if f is None else _check_field(str(f)) for f in fields)
    body = ",".join(parts).encode("ascii")
    frame = b"$%s*%04X\r\n" % (body, crc16(body))
    if len(frame) > MAX_FRAME:
        raise ValueError(f"frame longer than {MAX_FRAME} bytes: {frame!r}")
    return frame


class Frame(NamedTuple):
    """An accepted frame: its raw fields and the typed value built from them."""

    seq: int
    type: str
    fields: list[str]
    value: Any


class RawCommand(NamedTuple):
    """A host -> device frame, as the device (the simulator) receives it."""

    host_t: float
    command: str
    args: tuple


# --- field parsers -------------------------------------------------------------
# Each returns the typed value or raises ValueError when a field is out of its
# range (see "ranges" below); that, like a regex mismatch, rejects the frame.

_Parser = Callable[[re.Match, float], Any]

ParseTable = dict[str, list[tuple[re.Pattern[str] | None, _Parser]]]
"""Frame type -> (fields pattern, parser) pairs; a None pattern is a frame without fields."""


def _empty_match() -> re.Match[str]:
    m = re.fullmatch("", "")
    assert m is not None  # the empty pattern matches the empty string
    return m


_NO_FIELDS = _empty_match()
"""What a parser of a frame without fields gets: a match with no groups."""


# --- ranges -------------------------------------------------------------------
# TSCP.md's grammar admits any number of digits; a value out of these ranges is
# no measurement a device can make, so the frame is rejected (counted, its bytes
# kept) rather than turned into a value that breaks what comes after it (an
# integer >= 2^63 does not fit SQLite's signed 64-bit INTEGER).

T_MAX = (1 << 32) - 1
"""Device time, ms since the device started: unsigned 32-bit (TSCP.md "Numbers")."""
COUNT_MAX = (1 << 31) - 1
"""Pulse counts, train numbers, pulses per train, trains, burst: far above any protocol, and
(as every sum of them) far inside SQLite's signed 64-bit integers."""
MSO_RANGE = (0, 100)
POSITION_MM_MAX = 10_000.0
"""|x|, |y|, |z| in the head frame: 10 m is no head; more is a broken tracker."""
QUATERNION_MAX = 1.0
"""A unit quaternion's components lie in -1..1."""
DIDT_MAX = 10_000.0
"""|dI/dt| in A/us: real stimulators reach a few hundred."""
COIL_TEMP_RANGE = (-50.0, 250.0)
FREQ_HZ_RANGE = (0.0, 10_000.0)
ITI_S_RANGE = (0.0, 86_400.0)


class _OutOfRange(ValueError):
    """A field that parses but is outside its range: the frame is rejected."""


def _int_in(s: str, low: int, high: int) -> int:
    v = int(s)
    if not low <= v <= high:
        raise _OutOfRange(s)
    return v


def _dec_in(s: str, low: float, high: float) -> float:
    v = float(s)
    if not low <= v <= high:  # also false for NaN, which the grammar cannot write anyway
        raise _OutOfRange(s)
    return v


def _t(s: str) -> int:
    v = int(s)  # the pattern admits no sign
    if v > T_MAX:
        raise _OutOfRange(s)
    return v


def _mso(s: str) -> int:
    return _int_in(s, *MSO_RANGE)


def _count(s: str, low: int = 0) -> int:
    return _int_in(s, low, COUNT_MAX)


def _opt_dec(s: str | None, low: float, high: float) -> float | None:
    return None if s is None else _dec_in(s, low, high)


def _hello(m: re.Match, h: float) -> Any:
    return ev.Hello(None, h, *m.groups())


def _stat(m: re.Match, h: float) -> Any:
    t, state, mso, temp, coil = m.groups()
    return ev.Status(_t(t), h, state, _mso(mso), _opt_dec(temp, *COIL_TEMP_RANGE), coil)


def _proto(m: re.Match, h: float) -> Any:
    t, name, freq, ppt, trains, iti, burst = m.groups()
    return ev.ProtocolLoaded(
        _t(t), h, name, _dec_in(freq, *FREQ_HZ_RANGE), _count(ppt), _count(trains),
        _dec_in(iti, *ITI_S_RANGE), _count(burst),
    )


def _int(m: re.Match, h: float) -> Any:
    t, mso = m.groups()
    return ev.Intensity(_t(t), h, _mso(mso))


def _pose(m: re.Match, h: float) -> Any:
    g = m.groups()  # the most frequent frame (30-60 Hz): its ranges checked inline, in one expression
    x, y, z, qw, qx, qy, qz, quality = (float(g[1]), float(g[2]), float(g[3]), float(g[4]),
                                        float(g[5]), float(g[6]), float(g[7]), float(g[8]))
    mm, qm = POSITION_MM_MAX, QUATERNION_MAX
    if not (
        -mm <= x <= mm and -mm <= y <= mm and -mm <= z <= mm and -qm <= qw <= qm and -qm <= qx <= qm
        and -qm <= qy <= qm and -qm <= qz <= qm and 0.0 <= quality <= 1.0
    ):
        raise _OutOfRange(m.string)
    return ev.Pose(_t(g[0]), h, x, y, z, qw, qx, qy, qz, quality)


def _pose_hidden(m: re.Match, h: float) -> Any:
    return ev.Pose(_t(m.group(1)), h, None, None, None, None, None, None, None, 0.0)


def _train(m: re.Match, h: float) -> Any:
    t, n, phase, pulses = m.groups()
    return ev.Train(_t(t), h, _count(n, 1), phase, _count(pulses))


def _pulse(m: re.Match, h: float) -> Any:
    t, count, mso, didt = m.groups()
    return ev.Pulse(_t(t), h, _count(count, 1), _mso(mso), _opt_dec(didt, -DIDT_MAX, DIDT_MAX))


def _fault(m: re.Match, h: float) -> Any:
    return ev.Fault(_t(m.group(1)), h, m.group(2), m.group(3))


def _clear(m: re.Match, h: float) -> Any:
    return ev.Cleared(_t(m.group(1)), h, m.group(2))


def _eos(m: re.Match, h: float) -> Any:
    t, pulses, reason = m.groups()
    return ev.EndOfSession(_t(t), h, _count(pulses), reason)


def _pong(m: re.Match, h: float) -> Any:
    return ev.Pong(_t(m.group(1)), h)


def _ack(m: re.Match, h: float) -> Any:
    return ev.Ack(None, h, m.group(1))


def _nak(m: re.Match, h: float) -> Any:
    return ev.Nak(None, h, m.group(1), m.group(2))


def _enum(words: Sequence[str]) -> str:
    return "(" + "|".join(re.escape(w) for w in words) + ")"


def _opt(pattern: str) -> str:
    """An optional field: the group matches its value or nothing (-> None)."""
    return f"(?:{pattern})?"


def _rx(*fields: str) -> re.Pattern[str]:
    return re.compile(",".join(fields))


# (regex or regexes tried in order, parser); None regex = no fields at all.
DEVICE_TO_HOST: ParseTable = {
    "HELLO": [(_rx(_STR, _STR, _STR, _STR, _STR), _hello)],
    "STAT": [(_rx(_U32, _enum(ev.RUN_STATES), _INT, _opt(_DEC), _opt(_STR)), _stat)],
    "PROTO": [(_rx(_U32, _STR, _DEC, _INT, _INT, _DEC, _INT), _proto)],
    "INT": [(_rx(_U32, _INT), _int)],
    "POSE": [
        (_rx(_U32, *([_DEC] * 7), _DEC), _pose),
        (re.compile(r"([0-9]+),,,,,,,,0(?:\.0+)?"), _pose_hidden),
    ],
    "TRAIN": [(_rx(_U32, _INT, _enum(("START", "END")), _INT), _train)],
    "PULSE": [(_rx(_U32, _INT, _INT, _opt(_DEC)), _pulse)],
    "FAULT": [(_rx(_U32, _STR, _opt(_STR)), _fault)],
    "CLEAR": [(_rx(_U32, _STR), _clear)],
    "EOS": [(_rx(_U32, _INT, _enum(ev.EOS_REASONS)), _eos)],
    "PONG": [(_rx(_U32), _pong)],
    "ACK": [(_rx(_STR), _ack)],
    "NAK": [(_rx(_STR, _enum(ev.NAK_REASONS)), _nak)],
}


def _command(name: str, *converters: Callable[[str], Any]) -> _Parser:
    def parse(m: re.Match, h: float) -> Any:
        try:
            args = tuple(conv(g) for conv, g in zip(converters, m.groups(), strict=True))
        except ValueError:
            return None
        return RawCommand(h, name, args)

    return parse


HOST_TO_DEVICE: ParseTable = {
    "ID?": [(None, _command("ID?"))],
    "PING": [(None, _command("PING"))],
    "LOAD": [
        (_rx(_STR, _DEC, _INT, _INT, _DEC, _INT), _command(
            "LOAD", str, lambda s: _dec_in(s, *FREQ_HZ_RANGE), _count, _count,
            lambda s: _dec_in(s, *ITI_S_RANGE), _count,
        ))
    ],
    "SET": [(_rx(_INT), _command("SET", _mso))],
    "START": [(None, _command("START"))],
    "PAUSE": [(None, _command("PAUSE"))],
    "RESUME": [(None, _command("RESUME"))],
    "STOP": [(None, _command("STOP"))],
}


class Receiver:
    """Turns a byte stream into accepted frames, counting what it rejects or misses.

    Feed it bytes in any split; it keeps a partial line between calls. Counters:
    ``received`` (accepted frames), ``rejected`` and ``missing`` by the receiver
    rule of TSCP.md; ``rejected_lines`` keeps the raw bytes of the last 50
    rejected pieces for diagnosis.
    """

    def __init__(
        self,
        table: ParseTable | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._table = DEVICE_TO_HOST if table is None else table
        self._clock = clock
        self._partial = b""
        self._overlong = False
        self.received = 0
        self.rejected = 0
        self.missing = 0
        self.rejected_lines: deque[bytes] = deque(maxlen=REJECTED_KEPT)
        self._expected: int | None = None

    def reset_sequence(self) -> None:
        """A new connection: the next accepted frame sets the expectation afresh."""
        self._expected = None
        self._partial = b""
        self._overlong = False

    def _reject(self, raw: bytes) -> None:
        self.rejected += 1
        self.rejected_lines.append(raw[: MAX_FRAME + 40])

    def feed(self, data: bytes, host_t: float | None = None) -> list[Frame]:
        """Process ``data``; return the frames accepted, in order."""
        if host_t is None:
            host_t = self._clock()
        lines = data.split(b"\n")
        if self._partial or self._overlong:
            lines[0] = self._partial + lines[0]
        tail = lines.pop()
        out: list[Frame] = []
        if lines:
            first = True
            for line in lines:
                if first and self._overlong:
                    first = False
                    self._overlong = False
                    # kept as the whole-line path keeps it: without the trailing CR
                    self._reject(line[:-1] if line.endswith(b"\r") else line)
                    continue
                first = False
                self._line(line, host_t, out)
        # keep the partial line, but never more than a frame's worth of it
        if len(tail) > MAX_LINE + 1:
            # over-long already: keep only its start (what rejected_lines shows), never all of it
            self._overlong = True
            self._partial = tail[: MAX_FRAME + 40]
        else:
            self._partial = tail
        return out

    def _line(self, line: bytes, host_t: float, out: list[Frame]) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            return
        if len(line) > MAX_LINE:
            self._reject(line)
            return
        start = line.rfind(b"$")
        if start < 0:
            self._reject(line)
            return
        if start:
            self._reject(line[:start])
        frame = self._frame(line[start + 1 :], host_t)
        if frame is None:
            self._reject(line[start:])
            return
        self.received += 1
        seq = frame.seq
        expected = self._expected
        if expected is not None and seq != expected and frame.type != "HELLO":
            self.missing += (seq - expected) % SEQ_MOD
        self._expected = (seq + 1) % SEQ_MOD
        out.append(frame)

    def _frame(self, raw: bytes, host_t: float) -> Frame | None:
        if len(raw) < 5 or raw[-5] != 0x2A:  # "*"
            return None
        body = raw[:-5]
        if raw[-4:] != b"%04X" % crc16(body):
            return None
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            return None
        parts = text.split(",", 2)
        if len(parts) < 2:
            return None
        seq_s, type_ = parts[0], parts[1]
        if not seq_s.isdigit() or len(seq_s) > 5:
            return None
        seq = int(seq_s)
        if seq >= SEQ_MOD:
            return None
        options = self._table.get(type_)
        if options is None:
            return None
        rest = parts[2] if len(parts) == 3 else None
        for rx, parse in options:
            if rx is None:
                if rest is None:
                    return Frame(seq, type_, [], parse(_NO_FIELDS, host_t))
                continue
            if rest is None:
                continue
            m = rx.fullmatch(rest)
            if m is not None:
                try:
                    value = parse(m, host_t)
                except ValueError:  # a number out of its range (_OutOfRange)
                    return None
                if value is None:
                    return None
                return Frame(seq, type_, rest.split(","), value)
        return None


# --- writing numbers -----------------------------------------------------------
# TSCP.md fixes the grammar of a decimal (no exponent, no "+") but not its
# places; these are the places every writer uses (the simulator, the host's
# commands, test captures), so what a device reports is exactly what was sent.

PLACES: dict[str, int] = {
    "freq_hz": 3,  # PROTO, LOAD: millihertz
    "iti_s": 3,  # PROTO, LOAD: milliseconds
    "coil_temp_c": 1,  # STAT
    "didt": 1,  # PULSE, A/us
    "mm": 2,  # POSE x, y, z (as the example frame of TSCP.md)
    "quaternion": 4,  # POSE qw, qx, qy, qz
    "quality": 2,  # POSE quality, 0.00..1.00
}
COMMAND_PLACES = 3
"""Places of a decimal command argument (LOAD's freq_hz and iti_s are the only ones)."""

POSE_FORMAT = "%d," + ",".join(
    [f"%.{PLACES['mm']}f"] * 3 + [f"%.{PLACES['quaternion']}f"] * 4 + [f"%.{PLACES['quality']}f"]
)
"""A visible POSE's fields for ``%``-formatting (t, x, y, z, qw, qx, qy, qz, quality): the fast path."""
POSE_HIDDEN_FORMAT = "%d,,,,,,,," + f"{0:.{PLACES['quality']}f}"
"""A POSE whose coil the tracker cannot see: quality 0 and the seven pose fields empty."""


def format_decimal(value: float, places: int) -> str:
    """A TSCP decimal rounded to ``places``, without exponent or trailing zeros.

    10.0 -> "10", 2.5 -> "2.5", -0.0001 -> "0". ValueError for what no frame
    can carry (NaN, infinities, booleans). Only POSE keeps its zeros
    (:data:`POSE_FORMAT`): its fields are fixed-width, as in TSCP.md's example.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a number a TSCP frame can carry")
    text = f"{value:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_field(value: object, places: int = COMMAND_PLACES) -> str:
    """One field as TSCP/1 writes it: integers as they are, decimals by :func:`format_decimal`."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a value a TSCP field can carry")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_decimal(value, places)
    return str(value)


def format_proto_fields(t: int, spec: ProtocolSpec) -> list[str]:
    """PROTO fields of ``spec`` at device time ``t`` (the LOAD fields are the same without ``t``)."""
    return [
        str(t), spec.name, format_decimal(spec.freq_hz, PLACES["freq_hz"]), str(spec.pulses_per_train),
        str(spec.trains), format_decimal(spec.iti_s, PLACES["iti_s"]), str(spec.burst),
    ]


def format_pose_fields(
    t: int,
    pose: tuple[float, float, float, float, float, float, float] | None,
    quality: float,
) -> list[str]:
    """POSE fields with fixed places (2 for mm, 4 for the quaternion, 2 for quality)."""
    if pose is None:
        return (POSE_HIDDEN_FORMAT % t).split(",")
    return (POSE_FORMAT % (t, *pose, quality)).split(",")
