"""The NDI Combined API on the wire: CRC-16, command and reply framing, BX and TX tracking replies.

Everything here is a pure function of bytes, shared by the console's receiver and the simulator, so
both sides are held to one reading of VENDORS.md §1.4:

* CRC-16/ARC (polynomial 0xA001 reflected, init 0, no final XOR); ``INIT:`` -> ``E3A5``.
* Host -> device: ``NAME:params`` + CRC as 4 uppercase hex digits + ``\\r`` (the CRC only when a
  ``:`` follows the name; the space form carries none).
* Device -> host, text: ``text`` + CRC (4 uppercase hex) + ``\\r``; binary (BX): ``C4 A5``, body
  length u16 LE, header CRC u16 LE, body, body CRC u16 LE.
* Tracking replies decode to :class:`ToolRecord` per port handle; a decode that finds the layout
  broken or a value out of range returns ``None`` (the receiver then rejects the frame), never a
  guessed value.
"""

from __future__ import annotations

import math
import struct
from typing import NamedTuple

BX_START = b"\xc4\xa5"
BX_HEADER = 6
"""Start sequence, body length, header CRC."""
MAX_BODY = 4096
"""More than any BX reply of up to 255 handles with transforms (2 + 255 * 42 + 2 < 11 000 would be
the theoretical bound of the format, but the unit tracks at most a few dozen tools)."""
MAX_TEXT = 4096
"""A text reply longer than this without a carriage return is noise, not a reply."""

HANDLE_VALID = 0x01
HANDLE_MISSING = 0x02
HANDLE_DISABLED = 0x04

PORT_OCCUPIED = 0x01
PORT_INITIALISED = 0x10
PORT_ENABLED = 0x20
PORT_OUT_OF_VOLUME = 0x40
PORT_PARTIALLY_IN_VOLUME = 0x80

MAX_POSITION_MM = 10_000.0
"""No NDI measurement volume reaches 10 m from the camera: beyond is a broken value."""
MAX_RMS_MM = 100.0
QUAT_NORM_TOLERANCE = 0.01
"""TX sends four decimals per component, BX float32: either stays far inside 1 % of unit length."""

_TABLE: list[int] = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ 0xA001 if _crc & 1 else _crc >> 1
    _TABLE.append(_crc)


def crc16(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/ARC as ndicapi's CalcCRC16 computes it (check value of ``123456789``: 0xBB3D)."""
    table = _TABLE
    for byte in bytes(data):
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def command(text: str) -> bytes:
    """``INIT:`` -> ``b'INIT:E3A5\\r'``; a command without ``:`` after its name gets no CRC."""
    name_end = 0
    while name_end < len(text) and (text[name_end].isupper() or text[name_end].isdigit()):
        name_end += 1
    raw = text.encode("ascii")
    if name_end < len(text) and text[name_end] == ":":
        return raw + f"{crc16(raw):04X}".encode("ascii") + b"\r"
    return raw + b"\r"


def command_name(line: bytes) -> str:
    """The name part of one host command line (``b'BX:0801...'`` -> ``'BX'``)."""
    end = 0
    while end < len(line) and (0x41 <= line[end] <= 0x5A or 0x30 <= line[end] <= 0x39):
        end += 1
    return line[:end].decode("ascii")


def check_command(line: bytes) -> str | None:
    """One host command line without its ``\\r`` -> the text before the CRC, or None when its CRC
    is wrong (the unit answers ERROR04 then). Commands in the space form carry no CRC."""
    name = command_name(line)
    if len(line) > len(name) and line[len(name):len(name) + 1] == b":":
        if len(line) < len(name) + 5:
            return None
        body, crc = line[:-4], line[-4:]
        try:
            if int(crc, 16) != crc16(body) or crc.upper() != crc:
                return None
        except ValueError:
            return None
        return body.decode("ascii", "replace")
    return line.decode("ascii", "replace")


def text_reply(text: str) -> bytes:
    """``OKAY`` -> ``b'OKAYA896\\r'``."""
    raw = text.encode("ascii")
    return raw + f"{crc16(raw):04X}".encode("ascii") + b"\r"


def text_reply_ok(line: bytes) -> bool:
    """A text reply (without ``\\r``) whose last 4 characters are the uppercase-hex CRC of the rest."""
    if len(line) < 5:
        return False
    crc = line[-4:]
    for c in crc:
        if not (0x30 <= c <= 0x39 or 0x41 <= c <= 0x46):
            return False
    return int(crc, 16) == crc16(line[:-4])


def binary_reply(body: bytes) -> bytes:
    """A BX body -> the whole reply with its start sequence, length and both CRCs."""
    header = BX_START + struct.pack("<H", len(body))
    return header + struct.pack("<H", crc16(header)) + body + struct.pack("<H", crc16(body))


class ToolRecord(NamedTuple):
    """One port handle in a tracking reply. ``q``/``t``/``rms`` only when status is VALID; ``port``
    and ``frame`` for VALID and MISSING (a DISABLED handle carries nothing)."""

    handle: int
    status: int
    q: tuple[float, float, float, float] | None
    t: tuple[float, float, float] | None
    rms: float | None
    port: int | None
    frame: int | None

    @property
    def seen(self) -> bool:
        """Measured and inside the volume: the only case that gives a pose."""
        return (self.status == HANDLE_VALID and self.port is not None
                and not self.port & PORT_OUT_OF_VOLUME)


class Tracking(NamedTuple):
    """A decoded BX or TX reply (reply option 0x0001, with or without 0x0800)."""

    tools: tuple[ToolRecord, ...]
    system_status: int


_FLOATS = struct.Struct("<8f")
_STATUS_FRAME = struct.Struct("<II")


def encode_bx(tracking: Tracking) -> bytes:
    """The BX reply of ``tracking`` (the simulator's side, and the tests')."""
    body = bytearray((len(tracking.tools),))
    for tool in tracking.tools:
        body += bytes((tool.handle, tool.status))
        if tool.status == HANDLE_DISABLED:
            continue
        if tool.status == HANDLE_VALID:
            assert tool.q is not None and tool.t is not None and tool.rms is not None
            body += _FLOATS.pack(*tool.q, *tool.t, tool.rms)
        body += _STATUS_FRAME.pack(tool.port or 0, tool.frame or 0)
    body += struct.pack("<H", tracking.system_status)
    return binary_reply(bytes(body))


def _pose_in_range(q: tuple[float, ...], t: tuple[float, ...], rms: float) -> bool:
    if not all(math.isfinite(v) for v in (*q, *t, rms)):
        return False
    norm = math.sqrt(sum(v * v for v in q))
    return (abs(norm - 1.0) <= QUAT_NORM_TOLERANCE and all(abs(v) <= MAX_POSITION_MM for v in t)
            and 0.0 <= rms <= MAX_RMS_MM)


def decode_bx(body: bytes) -> Tracking | None:
    """A BX body (between header and body CRC) -> its tools, or None when the layout or a value is
    wrong: an unknown handle status, a length that does not add up, a non-unit quaternion, a
    position beyond 10 m, a negative or huge RMS error, a handle listed twice."""
    n = len(body)
    if n < 3:
        return None
    count = body[0]
    i = 1
    tools: list[ToolRecord] = []
    seen: set[int] = set()
    for _ in range(count):
        if i + 2 > n:
            return None
        handle, status = body[i], body[i + 1]
        i += 2
        if handle in seen or status not in (HANDLE_VALID, HANDLE_MISSING, HANDLE_DISABLED):
            return None
        seen.add(handle)
        if status == HANDLE_DISABLED:
            tools.append(ToolRecord(handle, status, None, None, None, None, None))
            continue
        q = t = rms = None
        if status == HANDLE_VALID:
            if i + 32 > n:
                return None
            v = _FLOATS.unpack_from(body, i)
            i += 32
            q, t, rms = (v[0], v[1], v[2], v[3]), (v[4], v[5], v[6]), v[7]
            if not _pose_in_range(q, t, rms):
                return None
        if i + 8 > n:
            return None
        port, frame = _STATUS_FRAME.unpack_from(body, i)
        i += 8
        tools.append(ToolRecord(handle, status, q, t, rms, port, frame))
    if i + 2 != n:
        return None
    return Tracking(tuple(tools), struct.unpack_from("<H", body, i)[0])


def _signed(value: float, width: int, scale: float) -> str:
    n = round(value / scale)
    limit = 10 ** (width - 1) - 1
    n = max(-limit, min(limit, n))
    return f"{'-' if n < 0 else '+'}{abs(n):0{width - 1}d}"


def encode_tx(tracking: Tracking) -> bytes:
    """The TX reply text of ``tracking`` with its CRC: each handle's record ends with ``\\n``."""
    parts = [f"{len(tracking.tools):02X}"]
    for tool in tracking.tools:
        parts.append(f"{tool.handle:02X}")
        if tool.status == HANDLE_DISABLED:
            parts.append("DISABLED\n")
            continue
        if tool.status == HANDLE_VALID:
            assert tool.q is not None and tool.t is not None and tool.rms is not None
            parts += [_signed(v, 6, 1e-4) for v in tool.q]
            parts += [_signed(v, 7, 1e-2) for v in tool.t]
            parts.append(_signed(tool.rms, 6, 1e-4))
        else:
            parts.append("MISSING")
        parts.append(f"{tool.port or 0:08X}{tool.frame or 0:08X}\n")
    parts.append(f"{tracking.system_status:04X}")
    return text_reply("".join(parts))


def _hex(text: str) -> int | None:
    if not text or any(c not in "0123456789ABCDEFabcdef" for c in text):
        return None
    return int(text, 16)


def _number(text: str, scale: float) -> float | None:
    if len(text) < 2 or text[0] not in "+-" or not text[1:].isdigit() or not text[1:].isascii():
        return None
    return (-1 if text[0] == "-" else 1) * int(text[1:]) * scale


def decode_tx(text: str) -> Tracking | None:
    """A TX reply's text (without CRC) -> its tools, or None when it does not follow the layout
    exactly or a value is out of range (UNOCCUPIED handles are skipped, as ndicapi does)."""
    count = _hex(text[:2])
    if count is None:
        return None
    i = 2
    tools: list[ToolRecord] = []
    seen: set[int] = set()
    for _ in range(count):
        handle = _hex(text[i:i + 2])
        if handle is None or handle in seen:
            return None
        seen.add(handle)
        i += 2
        if text.startswith("UNOCCUPIED", i):
            i += 10
            if text[i:i + 1] != "\n":
                return None
            i += 1
            continue
        if text.startswith("DISABLED\n", i):
            i += 9
            tools.append(ToolRecord(handle, HANDLE_DISABLED, None, None, None, None, None))
            continue
        q = t = rms = None
        if text.startswith("MISSING", i):
            status = HANDLE_MISSING
            i += 7
        else:
            status = HANDLE_VALID
            field = text[i:i + 51]
            values = [_number(field[k:k + 6], 1e-4) for k in (0, 6, 12, 18)]
            values += [_number(field[k:k + 7], 1e-2) for k in (24, 31, 38)]
            values.append(_number(field[45:51], 1e-4))
            numbers = [v for v in values if v is not None]
            if len(field) != 51 or len(numbers) != 8:
                return None
            q = (numbers[0], numbers[1], numbers[2], numbers[3])
            t = (numbers[4], numbers[5], numbers[6])
            rms = numbers[7]
            if not _pose_in_range(q, t, rms):
                return None
            i += 51
        port, frame = _hex(text[i:i + 8]), _hex(text[i + 8:i + 16])
        if port is None or frame is None or len(text[i:i + 16]) != 16 or text[i + 16:i + 17] != "\n":
            return None
        i += 17
        tools.append(ToolRecord(handle, status, q, t, rms, port, frame))
    system = _hex(text[i:i + 4])
    if system is None or i + 4 != len(text):
        return None
    return Tracking(tuple(tools), system)
