"""Captures of an NDI link (``?capture=FILE``): what crossed the wire, to replay it exactly.

The file starts with the line ``TMSCAP1 ndi`` and then holds records, each ``DIR(1 byte: R = from
the tracker, W = from the console) HOST_T(float64, big-endian, monotonic seconds) LEN(uint32,
big-endian) BYTES[LEN]`` (the layout of the MagVenture captures). Unlike a stimulator's, the host's
records matter on replay: the Combined API is command -> reply, so the receiver reads each text
reply by the command before it and learns which handle is the coil from ``PENA``. Replaying feeds
both directions to the same :class:`~devices.ndi.codec.Receiver` in order, at the recorded times:
the same events and counts. The file is private (0600): the traffic belongs to a patient's session.
"""

from __future__ import annotations

import struct
from collections import deque
from pathlib import Path
from typing import IO

from devices import events as ev
from devices.ndi.codec import Receiver
from devices.private_file import open_private

HEADER = b"TMSCAP1 ndi\n"
_RECORD = struct.Struct(">cdI")
FROM_DEVICE = b"R"
FROM_HOST = b"W"
MAX_RECORD = 1 << 24


class CaptureWriter:
    """Appends records to a capture file (the header first when the file is new or empty)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[bytes] = open_private(self.path, "ab")
        if self._file.tell() == 0:
            self._file.write(HEADER)

    def write(self, direction: bytes, host_t: float, data: bytes) -> None:
        self._file.write(_RECORD.pack(direction, host_t, len(data)) + data)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class CaptureReader:
    """Chunks of a capture file after its header line (any split) -> the session's events, with the
    receiver's counters."""

    def __init__(self, reply: str = "bx") -> None:
        self._receiver = Receiver(reply)
        self._buf = bytearray()
        self.broken = False
        """True once a record could not be read (a file that is not an NDI capture)."""
        self.host_bytes = 0

    @property
    def receiver(self) -> Receiver:
        return self._receiver

    @property
    def received(self) -> int:
        return self._receiver.received

    @property
    def rejected(self) -> int:
        return self._receiver.rejected

    @property
    def missing(self) -> int:
        return self._receiver.missing

    @property
    def rejected_lines(self) -> deque[bytes]:
        return self._receiver.rejected_lines

    def feed(self, data: bytes) -> list[ev.DeviceEvent]:
        buf = self._buf
        buf += data
        out: list[ev.DeviceEvent] = []
        i = 0
        size = _RECORD.size
        while not self.broken and len(buf) - i >= size:
            direction, host_t, length = _RECORD.unpack_from(buf, i)
            if direction not in (FROM_DEVICE, FROM_HOST) or length > MAX_RECORD:
                self.broken = True
                break
            if len(buf) - i - size < length:
                break
            chunk = bytes(buf[i + size:i + size + length])
            i += size + length
            if direction == FROM_DEVICE:
                out += self._receiver.feed(chunk, host_t)
            else:
                self.host_bytes += length
                self._receiver.sent(chunk)
        del buf[:i]
        return out


def read_capture(path: str | Path) -> tuple[list[ev.DeviceEvent], CaptureReader]:
    """Every event of a capture file, and the reader with its counts (tests, analysis)."""
    data = Path(path).read_bytes()
    if not data.startswith(HEADER):
        raise ValueError(f"{path} is not an NDI capture (no {HEADER!r} header line)")
    reader = CaptureReader()
    return reader.feed(data[len(HEADER):]), reader
