"""Magstim serial framing: commands to bytes, and a receiver that turns replies into events.

A command is an ASCII letter, data characters and one checksum byte
``~sum & 0xFF``; a reply echoes the letter, carries the instrument status byte
(and the Rapid's second status byte for some letters), data and the same
checksum. Nothing delimits a frame, and the unit never speaks unasked: every
reply belongs to the command before it. So the :class:`Receiver` works in
*exchanges*: :meth:`Receiver.sent` opens one (the adapter calls it for each
command it writes, the capture keeps it), the reply is parsed by the length
the command's letter implies (VENDORS.md §1.2), and the next command (or a
timeout, :meth:`Receiver.close`) closes it.

Receiver rule, exact (the fuzz test holds it to this):

- In an open exchange, bytes before the first byte that is the expected
  letter or ``?`` are junk; a run of junk is one rejected piece.
- From that byte, one reply is read: ``?`` alone (invalid command); the
  letter then ``?`` or ``S`` then the checksum (invalid data / conflicts with
  the state); otherwise the letter's full length (``N``: up to its NUL, then
  the checksum). A complete reply with the right checksum and in-range
  fields is accepted, else the whole reply is one rejected piece.
- After that reply, the rest of the exchange is junk (one piece per run).
- Closing an exchange rejects a reply cut short (one piece) and pending junk
  (one piece); an exchange that saw no reply at all counts one ``missing``.
- Bytes outside any exchange are junk too.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from devices.events import DeviceEvent
from devices.magstim.rules import (
    RAPID_STATUS_LETTERS,
    Unit,
    parse_version,
    rapid_param_widths,
    reply_length,
)
from devices.magstim.view import Reply, UnitView

__all__ = ["Receiver", "Reply", "checksum", "encode", "number", "parse_reply"]

REJECTED_KEPT = 50
MAX_VERSION_REPLY = 24
"""``N`` + one byte + version text + NUL + checksum never needs more than this."""


def checksum(data: bytes) -> int:
    """``(~sum(data)) & 0xFF`` (MAGPY:36-41)."""
    return ~sum(data) & 0xFF


def encode(letter: str, data: str | bytes = "@") -> bytes:
    """One command: letter, data (``@`` when it carries none) and checksum."""
    body = letter.encode("latin-1") + (data.encode("latin-1") if isinstance(data, str) else data)
    return body + bytes([checksum(body)])


def number(value: int, width: int) -> str:
    """A value as the unit's zero-padded ASCII digits; ValueError when it does not fit."""
    text = str(int(value)).zfill(width)
    if value < 0 or len(text) != width:
        raise ValueError(f"{value} does not fit in {width} digits")
    return text


def _digits(raw: bytes, widths: tuple[int, ...]) -> tuple[int, ...] | None:
    out = []
    at = 0
    for w in widths:
        piece = raw[at:at + w]
        if len(piece) != w or not piece.isdigit():
            return None
        out.append(int(piece))
        at += w
    return tuple(out) if at == len(raw) else None


def parse_reply(unit: Unit, raw: bytes) -> Reply | None:
    """A complete reply's bytes -> :class:`Reply`, or None when its checksum or a field is wrong."""
    if raw == b"?":
        return Reply("?", "command", None, None, ())
    if len(raw) < 3 or raw[-1] != checksum(raw[:-1]):
        return None
    letter = chr(raw[0])
    if letter == "N":
        text = raw[2:-2]
        if len(raw) < 5 or raw[-2] != 0 or not text.isascii():
            return None
        version = text.decode("ascii")
        return Reply("N", None, None, None, (version,)) if parse_version(version) else None
    if len(raw) == 3 and raw[1] in b"?S":
        return Reply(letter, "data" if raw[1] == 0x3F else "state", None, None, ())
    instr = raw[1]
    body = raw[2:-1]
    rapid = None
    if unit.rapid and letter in RAPID_STATUS_LETTERS:
        rapid, body = body[0], body[1:]
    values: tuple[object, ...] | None = ()
    if letter == "J":
        values = _digits(body, (3, 3, 3))
        if values is not None and (values[0] > 110 or values[1] > 110):
            values = None
    elif letter == "F":
        values = _digits(body, (3, 3))
    elif letter == "\\":
        values = _digits(body, rapid_param_widths(unit))
        if values is not None and (values[0] > 110 or values[1] > 1000):
            values = None
    elif letter == "I":
        values = (body.decode("latin-1"),) if len(body) == 3 and body.isascii() else None
    elif letter in "xn" and body:
        values = tuple(body) if len(body) == 2 else None
    elif letter == "o":
        values = _digits(body, (len(body),)) if body else None
    elif letter == "X":
        values = (body[0],) if len(body) == 1 else None
    elif body:
        values = None
    if values is None:
        return None
    return Reply(letter, None, instr, rapid, values)


class Receiver:
    """Replies in, events out, with exact counters (see the module docstring for the rule).

    ``answer`` is the accepted reply of the open exchange (None until one
    is), ``done`` whether the open exchange has had its reply (good or bad).
    The :class:`~devices.magstim.view.UnitView` in ``view`` turns the
    commands, replies and the adapter's notes into device events.
    """

    def __init__(self, unit: Unit, *, speed: float = 1.0, observes_pulses: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.unit = unit
        self.view = UnitView(unit, speed=speed, observes_pulses=observes_pulses)
        self._clock = clock
        self.received = 0
        self.rejected = 0
        self.missing = 0
        self.rejected_lines: deque[bytes] = deque(maxlen=REJECTED_KEPT)
        self._expect: int | None = None  # the open exchange's letter
        self._command = b""
        self._sent_t = 0.0
        self._buf = bytearray()
        self._junk = bytearray()
        self._replied = False
        self.answer: Reply | None = None
        self.done = False

    def set_unit(self, unit: Unit) -> None:
        """The software version became known (from ``N``): later replies are sized by it."""
        self.unit = unit
        self.view.unit = unit

    def _reject(self, raw: bytes | bytearray) -> None:
        self.rejected += 1
        self.rejected_lines.append(bytes(raw[:64]))

    def _flush_junk(self) -> None:
        if self._junk:
            self._reject(self._junk)
            self._junk.clear()

    def sent(self, command: bytes, host_t: float | None = None) -> list[DeviceEvent]:
        """The host wrote ``command``: close the previous exchange and open this one."""
        if host_t is None:
            host_t = self._clock()
        self.view.device_t(host_t)  # the first command starts the adapter's clock
        out = self.close(host_t)
        self._expect = command[0] if command else None
        self._command = bytes(command)
        self._sent_t = host_t
        self._replied = False
        self.answer = None
        self.done = False
        return out

    def close(self, host_t: float | None = None) -> list[DeviceEvent]:
        """The open exchange is over (next command, or no reply in time)."""
        if host_t is None:
            host_t = self._clock()
        if self._buf:
            self._reject(self._buf)  # a reply cut short
            self._buf.clear()
            self._replied = True
        self._flush_junk()
        if self._expect is not None and not self._replied:
            self.missing += 1
        self._expect = None
        self.done = True
        return self.view.tick(host_t)

    def tick(self, host_t: float | None = None) -> list[DeviceEvent]:
        """Events that fall due by ``host_t`` (the pulses of a train the console fired)."""
        return self.view.tick(self._clock() if host_t is None else host_t)

    def feed(self, data: bytes, host_t: float | None = None) -> list[DeviceEvent]:
        """Process device bytes (any split); return the events they complete."""
        if host_t is None:
            host_t = self._clock()
        out = self.view.tick(host_t)
        n = len(data)
        i = 0
        buf, junk = self._buf, self._junk
        while i < n:
            expect = self._expect
            if expect is None or self._replied:
                junk += data[i:]
                break
            if not buf:
                # look for the reply's first byte: the expected letter or '?'
                j = i
                while j < n and data[j] != expect and data[j] != 0x3F:
                    j += 1
                junk += data[i:j]
                if j == n:
                    break
                self._flush_junk()
                i = j
            need, final = self._needed(buf, data[i])
            take = min(need - len(buf), n - i)
            buf += data[i:i + take]
            i += take
            if len(buf) > MAX_VERSION_REPLY or (final and len(buf) >= need):
                self._finish(host_t, out)
        return out

    def _needed(self, buf: bytearray, next_byte: int) -> tuple[int, bool]:
        """(bytes the reply in ``buf`` needs, whether that is its full length or only so far)."""
        first = buf[0] if buf else next_byte
        if first == 0x3F:
            return 1, True
        if len(buf) < 2:
            return 2, False
        if first == 0x4E:  # 'N' (read as magpy reads it: up to a NUL, then the checksum)
            nul = buf.find(0, 1)
            return (nul + 2, True) if nul >= 0 else (len(buf) + 1, False)
        if buf[1] in b"?S":
            return 3, True
        length = reply_length(self.unit, chr(first))
        return (length if length else 3), True

    def _finish(self, host_t: float, out: list[DeviceEvent]) -> None:
        raw = bytes(self._buf)
        self._buf.clear()
        self._replied = True
        self.done = True
        reply = parse_reply(self.unit, raw)
        if reply is None or (reply.letter != chr(self._expect or 0) and reply.letter != "?"):
            self._reject(raw)
            return
        self.received += 1
        self.answer = reply
        if reply.letter == "N" and self.unit.rapid:
            # a Rapid's later replies are sized by its software version
            version = parse_version(str(reply.values[0]))
            if version is not None and version != self.unit.version:
                self.set_unit(Unit(self.unit.model, version))
        out += self.view.answered(self._command, reply, self._sent_t, host_t)
