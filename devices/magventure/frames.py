"""MagVenture MagPro serial frames: CRC-8/Maxim, encoding, and cutting a byte stream into frames.

A frame is ``FE LEN PAYLOAD[LEN] CRC8 FF`` in both directions, CRC-8/Maxim over the payload only,
and PAYLOAD[0] is the message ID (VENDORS.md §1.1). There is no byte stuffing, so 0xFE and 0xFF
occur inside payloads and CRCs: frames are cut by their length, never by scanning for FF, and a
reply is recognised by its ID, never by the length a client expected, because unsolicited packets
(di/dt after each pulse, amplitude changes from the front panel, train start/stop) arrive between
replies at any time.

Receiver rule, exact (the fuzz test implements it independently):

* At an FE with LEN in 1..:data:`MAX_LEN`, and an FF and a matching CRC where LEN says, the bytes
  from FE to FF are a *frame*. Its payload is decoded (:mod:`devices.magventure.messages`); a
  payload that does not decode (unknown ID, wrong length for its ID, a value out of range) is one
  rejected piece, the frame's bytes kept.
* Every other byte is *junk*. A maximal run of junk between two frames is one rejected piece (its
  first :data:`KEEP_BYTES` kept): a torn frame, line noise or a corrupted CRC count once each.
* A frame that has not fully arrived waits; so does a junk run until the next frame begins.

The receiver is pure (bytes in, events out): the adapter, the capture replay, the tests and the
benchmark all run this one class.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

START = 0xFE
END = 0xFF
MAX_LEN = 24
"""The longest payload either side sends (long status is 15; the 0B/0C replies are "at least 14")."""
REJECTED_KEPT = 50
KEEP_BYTES = 64

# --- CRC and frames ------------------------------------------------------------------------------

def _crc_table() -> bytes:
    table = bytearray(256)
    for value in range(256):
        crc = value
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
        table[value] = crc
    return bytes(table)


CRC_TABLE = _crc_table()


def crc8(data: bytes | bytearray | memoryview) -> int:
    """CRC-8/Maxim (Dallas): polynomial 0x31 reflected (0x8C), init 0, no final XOR."""
    crc = 0
    table = CRC_TABLE
    for byte in data:
        crc = table[crc ^ byte]
    return crc


def encode_frame(payload: bytes | bytearray) -> bytes:
    """``FE LEN PAYLOAD CRC FF``; ValueError for a payload no frame can carry."""
    if not 1 <= len(payload) <= MAX_LEN:
        raise ValueError(f"a MagVenture payload has 1..{MAX_LEN} bytes, not {len(payload)}")
    return bytes((START, len(payload))) + bytes(payload) + bytes((crc8(payload), END))


class FrameSplitter:
    """Cuts a byte stream into frames by the receiver rule; counts and keeps rejected pieces."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._junk = bytearray()
        self._junk_len = 0
        self.received = 0
        self.rejected = 0
        self.rejected_lines: deque[bytes] = deque(maxlen=REJECTED_KEPT)

    def reject(self, raw: bytes | bytearray) -> None:
        self.rejected += 1
        self.rejected_lines.append(bytes(raw[:KEEP_BYTES]))

    def reset(self) -> None:
        """A new connection: a partial frame from the old one never joins the new bytes."""
        self._flush_junk()
        if self._buf:
            self.reject(self._buf)
            self._buf.clear()

    def _add_junk(self, piece: bytes | bytearray) -> None:
        room = KEEP_BYTES - len(self._junk)
        if room > 0:
            self._junk += piece[:room]
        self._junk_len += len(piece)

    def _flush_junk(self) -> None:
        if self._junk_len:
            self.reject(self._junk)
            self._junk.clear()
            self._junk_len = 0

    def split(self, data: bytes | bytearray) -> Iterator[bytes]:
        """The payloads of the frames completed by ``data``, in order; junk is counted as it ends,
        before the frame that ends it is yielded (so rejected pieces keep the stream's order).
        Consume it whole: the buffer is trimmed at its end."""
        buf = self._buf
        buf += data
        find = buf.find
        table = CRC_TABLE
        n = len(buf)
        i = 0
        while True:
            p = find(b"\xfe", i)
            if p < 0:
                if i < n:
                    self._add_junk(buf[i:n])
                i = n
                break
            if p > i:
                self._add_junk(buf[i:p])
            if p + 2 > n:
                i = p
                break
            length = buf[p + 1]
            if not 1 <= length <= MAX_LEN:
                self._add_junk(b"\xfe")
                i = p + 1
                continue
            end = p + length + 4
            if end > n:
                i = p
                break
            crc = 0
            for byte in buf[p + 2:end - 2]:
                crc = table[crc ^ byte]
            if buf[end - 1] != END or buf[end - 2] != crc:
                self._add_junk(b"\xfe")
                i = p + 1
                continue
            if self._junk_len:
                self._flush_junk()
            yield bytes(buf[p + 2:end - 2])
            i = end
        del buf[:i]


