"""NDI Combined API: the receiver that turns the tracker's replies into console events.

**Framing** (any split of the byte stream gives the same result). At each position:

* ``C4 A5`` + length + header CRC that matches, then that many body bytes and a matching body CRC:
  one binary (BX) reply. A start whose header or body CRC fails is one byte of junk, and scanning
  goes on at the next byte (so a torn reply never swallows the one after it).
* a run of printable ASCII (and ``\\n``) ending in ``\\r`` whose last four characters are the
  uppercase-hex CRC-16 of the rest: one text reply. A run ending in ``\\r`` with a wrong CRC, or
  cut by another byte, is junk; so is any other byte.
* each maximal run of junk between two replies is one rejected piece; a reply whose framing is
  right but whose content is not (a BX layout that does not add up, a quaternion off unit length,
  a position beyond 10 m, a TX record that does not parse) is one rejected piece too. An unfinished
  reply (or junk run) at the end waits for more bytes.

**Meaning.** The Combined API is strictly command -> reply, so a text reply is read by the command
the host sent last (:meth:`Receiver.sent`, which the adapter calls for every command and replay
calls for the capture's host records): ``VER`` -> :class:`~devices.events.Hello`; ``TX`` ->
tracking data; ``ERRORxx``, ``OKAY``, ``RESET`` and setup answers are replies without an event. A
binary reply is always BX tracking data. With no command known (a bare byte stream), text replies
are read as TX when the receiver was made for TX.

**Poses.** The coil and head-reference handles are the first and second handle the host enabled
(``PENA``, in that order: the adapter enables the coil first); ``INIT`` forgets them. Each new
frame number gives one :class:`~devices.events.Pose`: the coil in the head frame when both tools are
seen (valid and not out of volume), else a Pose with ``None`` fields and quality 0. Quality is
``1 / (1 + rms)`` of the worse tool's RMS error in mm (:func:`~devices.ndi.headframe.quality`).
``device_t`` is the tracker's 60 Hz frame number in ms (``frame * 1000 / 60``). A repeated frame
number (polled faster than the camera measures) gives no second event. ``missing`` stays 0: a
polled tracker sends the latest frame on request, so frames between two polls are not lost bytes.
"""

from __future__ import annotations

import struct
import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

from devices import events as ev
from devices.ndi import wire
from devices.ndi.headframe import coil_in_head, quality

PROTO = "NDI Combined API"
VENDOR = "NDI"
REJECTED_KEPT = 50
KEEP_BYTES = 256
"""Bytes kept of each rejected piece (a junk run may be long)."""
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\n"
_IS_TEXT = [False] * 256
for _b in _PRINTABLE:
    _IS_TEXT[_b] = True
UNKNOWN = "not reported"


class Reply(NamedTuple):
    """One reply as the adapter waits for it: the text (None for binary), and whether it was
    accepted (False: framed right but refused by its content)."""

    text: str | None
    ok: bool


class Receiver:
    """Tracker bytes in any split -> events; counters ``received``, ``rejected``, ``missing`` and
    ``rejected_lines`` (the last 50 rejected pieces, at most 256 bytes each)."""

    def __init__(self, reply: str = "bx", clock: Callable[[], float] = time.monotonic) -> None:
        if reply not in ("bx", "tx"):
            raise ValueError(f"reply must be bx or tx, not {reply!r}")
        self.reply = reply
        self._clock = clock
        self._buf = bytearray()
        self._junk = bytearray()
        self.received = 0
        self.rejected = 0
        self.missing = 0
        self.rejected_lines: deque[bytes] = deque(maxlen=REJECTED_KEPT)
        self.expect: str | None = None
        self.coil: int | None = None
        self.reference: int | None = None
        self.identity: ev.Hello | None = None
        self.last_error: str | None = None
        self._last_frame: int | None = None
        self._last_t = 0

    # --- what the host said --------------------------------------------------------------------
    def sent(self, data: bytes) -> None:
        """The host sent ``data`` (one or more commands): read the next text reply by the last one,
        and learn the tool handles from ``PENA`` (coil first, then reference)."""
        for line in data.split(b"\r"):
            name = wire.command_name(line)
            if not name:
                continue
            self.expect = name
            if name == "INIT":  # a new setup: handles are given anew, partial bytes are stale
                self.coil = self.reference = None
                self._last_frame = None
                self._buf.clear()
                self._junk.clear()
            elif name == "PENA" and len(line) >= 7:
                try:
                    handle = int(line[5:7], 16)
                except ValueError:
                    continue
                if self.coil is None:
                    self.coil = handle
                elif self.reference is None and handle != self.coil:
                    self.reference = handle

    def assign(self, coil: int, reference: int) -> None:
        """Name the handles directly (tests, and a host that enabled them in another order)."""
        self.coil, self.reference = coil, reference

    def new_connection(self) -> None:
        """The port was reopened: bytes from before never join the new ones."""
        self._buf.clear()
        self._junk.clear()
        self.expect = None

    # --- feeding -------------------------------------------------------------------------------
    def feed(self, data: bytes, host_t: float | None = None) -> list[ev.DeviceEvent]:
        """Process ``data``; the events it completes, in order."""
        return self.feed_replies(data, host_t)[1]

    def feed_replies(self, data: bytes, host_t: float | None = None
                     ) -> tuple[list[Reply], list[ev.DeviceEvent]]:
        """As :meth:`feed`, with each complete reply (the adapter waits for them)."""
        if host_t is None:
            host_t = self._clock()
        buf = self._buf
        buf += data
        replies: list[Reply] = []
        out: list[ev.DeviceEvent] = []
        i, n = 0, len(buf)
        is_text = _IS_TEXT
        while i < n:
            byte = buf[i]
            if byte == 0xC4:
                if n - i < 2:
                    break
                if buf[i + 1] == 0xA5:
                    if n - i < wire.BX_HEADER:
                        break
                    length, header_crc = struct.unpack_from("<HH", buf, i + 2)
                    if length <= wire.MAX_BODY and wire.crc16(buf[i:i + 4]) == header_crc:
                        end = i + length + 8
                        if end > n:
                            break
                        body = bytes(buf[i + 6:end - 2])
                        if wire.crc16(body) == struct.unpack_from("<H", buf, end - 2)[0]:
                            self._flush_junk()
                            replies.append(self._binary(body, bytes(buf[i:end]), host_t, out))
                            i = end
                            continue
                self._junk.append(byte)
                i += 1
            elif is_text[byte]:
                j = i
                while j < n and is_text[buf[j]]:
                    j += 1
                if j == n:
                    if j - i <= wire.MAX_TEXT:
                        break
                    self._junk += buf[i:j]
                    i = j
                elif buf[j] == 0x0D:
                    line = bytes(buf[i:j])
                    if wire.text_reply_ok(line):
                        self._flush_junk()
                        replies.append(self._text(line, host_t, out))
                    else:
                        self._junk += buf[i:j + 1]
                    i = j + 1
                else:
                    self._junk += buf[i:j]
                    i = j
            else:
                self._junk.append(byte)
                i += 1
        del buf[:i]
        return replies, out

    def _flush_junk(self) -> None:
        if self._junk:
            self._reject(bytes(self._junk))
            self._junk.clear()

    def _reject(self, piece: bytes) -> None:
        self.rejected += 1
        self.rejected_lines.append(piece[:KEEP_BYTES])

    # --- interpretation ------------------------------------------------------------------------
    def _binary(self, body: bytes, frame: bytes, h: float, out: list[ev.DeviceEvent]) -> Reply:
        tracking = wire.decode_bx(body)
        if tracking is None:
            self._reject(frame)
            return Reply(None, False)
        self.received += 1
        self._tracking(tracking, h, out)
        return Reply(None, True)

    def _text(self, line: bytes, h: float, out: list[ev.DeviceEvent]) -> Reply:
        text = line[:-4].decode("ascii")
        expect = self.expect
        if text.startswith("ERROR") and len(text) == 7:
            self.last_error = text[5:]
        elif expect == "VER":
            self._identity(text, h, out)
        elif expect == "TX" or (expect is None and self.reply == "tx"):
            tracking = wire.decode_tx(text)
            if tracking is None:
                self._reject(line + b"\r")
                return Reply(text, False)
            self._tracking(tracking, h, out)
        self.received += 1
        return Reply(text, True)

    def _identity(self, text: str, h: float, out: list[ev.DeviceEvent]) -> None:
        lines = [x.strip() for x in text.split("\n") if x.strip()]
        fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
        model = lines[0] if lines else UNKNOWN
        serial = fields.get("ndi s/n") or UNKNOWN
        firmware = fields.get("freeze tag") or UNKNOWN
        known = self.identity
        if known is None or (known.model, known.serial, known.firmware) != (model, serial, firmware):
            self.identity = ev.Hello(None, h, PROTO, VENDOR, model, serial, firmware)
            out.append(self.identity)

    def _tracking(self, tracking: wire.Tracking, h: float, out: list[ev.DeviceEvent]) -> None:
        if self.coil is None or self.reference is None:
            return
        coil = ref = None
        for tool in tracking.tools:
            if tool.handle == self.coil:
                coil = tool
            elif tool.handle == self.reference:
                ref = tool
        frame = next((x.frame for x in (coil, ref) if x is not None and x.frame is not None), None)
        if frame is not None:
            if frame == self._last_frame:
                return
            self._last_frame = frame
            self._last_t = frame * 50 // 3
        t = self._last_t
        if coil is not None and ref is not None and coil.seen and ref.seen:
            assert coil.q and coil.t and ref.q and ref.t and coil.rms is not None and ref.rms is not None
            q, p = coil_in_head(coil.q, coil.t, ref.q, ref.t)
            out.append(ev.Pose(t, h, p[0], p[1], p[2], q[0], q[1], q[2], q[3],
                               quality(coil.rms, ref.rms)))
        else:
            out.append(ev.Pose(t, h, None, None, None, None, None, None, None, 0.0))
