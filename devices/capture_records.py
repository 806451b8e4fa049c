"""The record layout of a vendor's capture file, and its reading, shared by the vendors that use it.

After the header line ``TMSCAP1 <vendor>``, a capture holds records, each ``DIR(1 byte: R = from
the device, W = from the console) HOST_T(float64, big-endian, monotonic seconds) LEN(uint32,
big-endian) BYTES[LEN]``: the read chunks as read, with the time they were read, and what the
console sent. A vendor's reader says what a record of each direction means to its receiver (a
stimulator's replies stand alone; a tracker's text reply is read by the command before it). The
file is private (0600): the traffic belongs to a patient's session.
"""

from __future__ import annotations

import struct
from collections import deque
from pathlib import Path
from typing import IO, Any

from devices import events as ev
from devices.private_file import open_private

RECORD = struct.Struct(">cdI")
FROM_DEVICE = b"R"
FROM_HOST = b"W"
MAX_RECORD = 1 << 24
"""A record longer than this is a broken file, not a read chunk."""


class RecordWriter:
    """Appends records to a capture file (the header first when the file is new or empty)."""

    HEADER = b""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[bytes] = open_private(self.path, "ab")
        if self._file.tell() == 0:
            self._file.write(self.HEADER)

    def write(self, direction: bytes, host_t: float, data: bytes) -> None:
        self._file.write(RECORD.pack(direction, host_t, len(data)) + data)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class RecordReader:
    """Chunks of a capture file after its header line (any split) -> the session's events, with the
    receiver's counters. A subclass sets ``receiver`` and may hear what the console sent
    (:meth:`sent`)."""

    receiver: Any
    OTHER: tuple[bytes, ...] = ()
    """Record kinds of this vendor's beside R and W (handed to :meth:`other`)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.broken = False
        """True once a record could not be read (a file that is not this vendor's capture)."""
        self.host_bytes = 0

    @property
    def received(self) -> int:
        return int(self.receiver.received)

    @property
    def rejected(self) -> int:
        return int(self.receiver.rejected)

    @property
    def missing(self) -> int:
        return int(self.receiver.missing)

    @property
    def rejected_lines(self) -> deque[bytes]:
        lines: deque[bytes] = self.receiver.rejected_lines
        return lines

    def sent(self, chunk: bytes) -> None:
        """What the console sent (kept for diagnosis; a stimulator's replay needs nothing of it)."""

    def device(self, chunk: bytes, host_t: float) -> list[ev.DeviceEvent]:
        """Bytes from the device, as read at ``host_t``: the receiver's events."""
        return list(self.receiver.feed(chunk, host_t))

    def other(self, direction: bytes, chunk: bytes) -> None:
        """A record of one of this vendor's own kinds (:data:`OTHER`); set ``broken`` if it is bad."""

    def feed(self, data: bytes) -> list[ev.DeviceEvent]:
        buf = self._buf
        buf += data
        out: list[ev.DeviceEvent] = []
        i = 0
        size = RECORD.size
        while not self.broken and len(buf) - i >= size:
            direction, host_t, length = RECORD.unpack_from(buf, i)
            if direction not in (FROM_DEVICE, FROM_HOST, *self.OTHER) or length > MAX_RECORD:
                self.broken = True
                break
            if len(buf) - i - size < length:
                break
            chunk = bytes(buf[i + size:i + size + length])
            i += size + length
            if direction == FROM_DEVICE:
                out += self.device(chunk, host_t)
            elif direction == FROM_HOST:
                self.host_bytes += length
                self.sent(chunk)
            else:
                self.other(direction, chunk)
        del buf[:i]
        return out


def read_file(path: str | Path, header: bytes, reader: RecordReader, what: str
              ) -> list[ev.DeviceEvent]:
    """Every event of a capture file through ``reader`` (tests, analysis)."""
    data = Path(path).read_bytes()
    if not data.startswith(header):
        raise ValueError(f"{path} is not {what} capture (no {header!r} header line)")
    return reader.feed(data[len(header):])
