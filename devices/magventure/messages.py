"""MagVenture MagPro payloads: device messages by ID (typed, range-checked) and host commands.

Every layout and offset here is from VENDORS.md §1.1 (payload offsets, p[0] is the ID). A payload
that is framed correctly but says nothing a MagPro can say (unknown ID, wrong length for its ID, a
value out of range) decodes to None and is rejected by the receiver, never turned into a value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from devices.magventure.frames import MAX_LEN

TEMP_MAX_C = 120
"""Coil temperatures above this are no reading (90 means "no cooling unit", magicpy devices.py)."""

MODELS = ("MagPro R30", "MagPro X100", "MagPro R30 + MagOption", "MagPro X100 + MagOption",
          "MagPro R30 + MagOption + Mono", "MagPro MST")
"""Status byte bits 5-7 (PYTMS:521-525; MAGIC:1681-1725)."""

COILS = {
    0: "unrecognised coil or MRi-B91", 56: "Cool-B35", 60: "Cool-B65", 62: "MCF-B65",
    63: "MCF-P-B65", 64: "Cool-B65 A/P", 72: "C-B60", 73: "C-B70", 81: "MC-125", 82: "MC-B70",
    86: "D-B80",
}
"""Coil type numbers seen in public clients (VENDORS.md §1.1)."""


def coil_name(coil_type: int) -> str:
    """What ``Status.coil_id`` records: the coil's name where known, always with its type number."""
    name = COILS.get(coil_type)
    return f"{name} (type {coil_type})" if name else f"type {coil_type}"


# --- device -> host -----------------------------------------------------------------------------

class StatusByte(NamedTuple):
    mode: int  # 0 Standard, 1 Power, 2 Twin, 3 Dual
    waveform: int  # 0 Monophasic, 1 Biphasic, 2 Halfsine, 3 Biphasic Burst
    enabled: bool
    model: int  # index into MODELS


class StatusReply(NamedTuple):
    """ID 00 (short) or 05 (long status)."""

    long: bool
    sb: StatusByte
    serial: int
    temp: int
    coil: int
    amp_a: int
    amp_b: int
    page: int | None
    running: bool | None


class Amplitude(NamedTuple):
    """ID 01: the amplitude changed (also from the front panel or the coil's button)."""

    amp_a: int
    amp_b: int
    sb: StatusByte


class DiDt(NamedTuple):
    """ID 02: a pulse was delivered, with its di/dt in A/us."""

    didt_a: int
    didt_b: int
    sb: StatusByte


class CoilInfo(NamedTuple):
    """ID 03: coil temperature and type (on enable/disable and on coil changes)."""

    temp: int
    coil: int
    sb: StatusByte


class PageInfo(NamedTuple):
    """ID 08: the page shown, and whether a train (or protocol) is running."""

    page: int
    running: bool
    sb: StatusByte


class TrainSettings(NamedTuple):
    """ID 0B (layout b): the Timing page's train settings."""

    rate_x10: int
    pulses: int
    trains: int
    iti_x10: int


class StimCount(NamedTuple):
    """ID 0C (layout b): the stimulator's own pulse count."""

    stim_count: int
    page: int


class Other(NamedTuple):
    """An accepted message the console records nothing from (MEP, mode/waveform, delays, 06/07)."""

    msg_id: int
    payload: bytes


Message = StatusReply | Amplitude | DiDt | CoilInfo | PageInfo | TrainSettings | StimCount | Other


class _Bad(ValueError):
    """A payload that is framed correctly but says nothing a MagPro can say."""


def status_byte(b: int) -> StatusByte:
    model = b >> 5
    if model >= len(MODELS):
        raise _Bad(f"model {model}")
    return StatusByte(b & 3, (b >> 2) & 3, bool(b & 0x10), model)


def _amp(v: int) -> int:
    if v > 100:
        raise _Bad(f"amplitude {v}")
    return v


def _temp(v: int) -> int:
    if v > TEMP_MAX_C:
        raise _Bad(f"temperature {v}")
    return v


def _flag(v: int) -> bool:
    if v > 1:
        raise _Bad(f"flag {v}")
    return bool(v)


def _status(p: bytes) -> Message:
    long = p[0] == 5
    return StatusReply(long, status_byte(p[1]), (p[2] << 16) | (p[3] << 8) | p[4], _temp(p[5]), p[6],
                       _amp(p[7]), _amp(p[8]), p[13] if long else None,
                       _flag(p[14]) if long else None)


def _u16(p: bytes, i: int) -> int:
    return (p[i] << 8) | p[i + 1]


def _train(p: bytes) -> Message:
    rate, pulses, trains, iti = _u16(p, 3), _u16(p, 5), _u16(p, 7), _u16(p, 9)
    if not (1 <= rate <= 1000 and pulses >= 1 and trains >= 1 and iti <= 12_000):
        raise _Bad("train settings")
    return TrainSettings(rate, pulses, trains, iti)


_Decoder = Callable[[bytes], Message]

def _other(p: bytes) -> Message:
    if p[0] in (6, 7):
        status_byte(p[3])  # original amplitude / amplitude factor, then SB: the SB must be valid
    return Other(p[0], p)


DEVICE_MESSAGES: dict[int, tuple[int, int, _Decoder]] = {
    # ID: (shortest, longest payload, decoder); a payload's length counts its ID byte (LEN)
    0x00: (9, 9, _status),
    0x05: (15, 15, _status),
    0x01: (4, 4, lambda p: Amplitude(_amp(p[1]), _amp(p[2]), status_byte(p[3]))),
    0x02: (4, 4, lambda p: DiDt(p[1], p[2], status_byte(p[3]))),
    0x03: (4, 4, lambda p: CoilInfo(_temp(p[1]), p[2], status_byte(p[3]))),
    0x04: (13, 13, _other),
    0x06: (4, 4, _other),
    0x07: (4, 4, _other),
    0x08: (4, 4, lambda p: PageInfo(p[1], _flag(p[2]), status_byte(p[3]))),
    0x09: (10, 10, _other),
    0x0A: (8, MAX_LEN, _other),
    0x0B: (14, MAX_LEN, _train),
    0x0C: (14, MAX_LEN, lambda p: StimCount(_u16(p, 9), p[13])),
}
"""Device -> host messages by ID (VENDORS.md §1.1 "Device -> host messages")."""


def decode_message(payload: bytes) -> Message | None:
    """The typed message of a device payload, or None when it must be rejected."""
    entry = DEVICE_MESSAGES.get(payload[0])
    if entry is None:
        return None
    shortest, longest, decoder = entry
    if not shortest <= len(payload) <= longest:
        return None
    try:
        return decoder(payload)
    except _Bad:
        return None


# --- host -> device ------------------------------------------------------------------------------

LAYOUTS = ("a", "b")
"""Command layouts for IDs 06-0C, both unverified against hardware (VENDORS.md §1.1, §6):
a = MAGIC/magicpy/MagProController (06 train, 07 page, 08 delays, 09 with 10 data bytes);
b = MagventurePyTMS (0A delays, 0B train, 0C page and stimulus count)."""

HOST_LENGTHS: dict[int, tuple[int, ...]] = {
    0x00: (1,), 0x01: (2, 3), 0x02: (2,), 0x03: (1, 2), 0x04: (1,), 0x05: (1,), 0x06: (9,),
    0x07: (2, 3), 0x08: (9,), 0x09: (2, 10, 11), 0x0A: (2, 8), 0x0B: (2, 12), 0x0C: (2,),
}
"""Payload lengths (ID included) of every host command seen in a public client."""


class HostCommand(NamedTuple):
    """A host -> device payload as the device (the simulator) receives it."""

    cmd_id: int
    data: bytes


def decode_command(payload: bytes) -> HostCommand | None:
    """A host command the MagPro would understand, or None (the unit ignores it: no NAK exists)."""
    lengths = HOST_LENGTHS.get(payload[0])
    if lengths is None or len(payload) not in lengths:
        return None
    data = payload[1:]
    if payload[0] == 0x01 and any(v > 100 for v in data):
        return None
    if payload[0] in (0x02, 0x0A, 0x0B, 0x0C, 0x09) and data[0] > 1:
        return None
    return HostCommand(payload[0], bytes(data))


def _u16be(value: int) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{value} does not fit two bytes")
    return bytes(((value >> 8) & 0xFF, value & 0xFF))


def status_request(long: bool) -> bytes:
    """00 (short status) or 05 (long status)."""
    return b"\x05" if long else b"\x00"


def set_amplitude(amp_a: int) -> bytes:
    if not 0 <= amp_a <= 100:
        raise ValueError(f"amplitude {amp_a} is outside 0..100")
    return bytes((0x01, amp_a))


def enable(on: bool) -> bytes:
    return bytes((0x02, 1 if on else 0))


def start_train() -> bytes:
    return b"\x04"


def set_train(layout: str, rate_x10: int, pulses: int, trains: int, iti_x10: int) -> bytes:
    """Train settings in layout a (``06 RR RR PP PP NN NN II II``) or b (``0B 01 tc RR RR PP PP NN NN
    II II warn`` with tc 0 = Sequence and no warning)."""
    body = _u16be(rate_x10) + _u16be(pulses) + _u16be(trains) + _u16be(iti_x10)
    if layout == "a":
        return b"\x06" + body
    return b"\x0b\x01\x00" + body + b"\x00"


def get_train() -> bytes:
    """Layout b only: ask for the train settings (reply ID 0B)."""
    return b"\x0b\x00"


def get_count() -> bytes:
    """Layout b only: ask for the page and the stimulus count (reply ID 0C)."""
    return b"\x0c\x00"
