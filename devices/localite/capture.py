"""Captures of a TMS Navigator link (``?capture=FILE``): what crossed the wire, to replay it exactly.

The file starts with the line ``TMSCAP1 localite`` and then holds records, each ``DIR(1 byte)
HOST_T(float64, big-endian, monotonic seconds) LEN(uint32, big-endian) BYTES[LEN]``. DIR is ``R``
for bytes from Navigator, ``W`` for the console's requests (kept for diagnosis, skipped on replay),
``C`` for the adapter's settings as a JSON object (``{"coil": 0}``), written first, so a replay
reads the same coil's keys, and ``N`` where a new connection began (``{"forget_visibility": true}``
after a loss), so a replay drops a torn object where the live receiver did. The read chunks are
kept as read, with the time they were read, so a replay feeds the same
:class:`~devices.localite.codec.Receiver` the same bytes at the same times: the same events and
counts. The file is private (0600): the traffic belongs to a patient's session.
"""

from __future__ import annotations

import json
import struct
from collections import deque
from pathlib import Path
from typing import IO

from devices import events as ev
from devices.localite.codec import Receiver
from devices.private_file import open_private

HEADER = b"TMSCAP1 localite\n"
_RECORD = struct.Struct(">cdI")
FROM_DEVICE = b"R"
FROM_HOST = b"W"
SETTINGS = b"C"
NEW_CONNECTION = b"N"
MAX_RECORD = 1 << 24
"""A record longer than this is a broken file, not a read chunk."""


class CaptureWriter:
    """Appends records to a capture file (the header first when the file is new or empty)."""

    def __init__(self, path: str | Path, coil: int) -> None:
        self.path = Path(path)
        self._file: IO[bytes] = open_private(self.path, "ab")
        if self._file.tell() == 0:
            self._file.write(HEADER)
        self.write(SETTINGS, 0.0, json.dumps({"coil": coil}).encode("ascii"))

    def write(self, direction: bytes, host_t: float, data: bytes) -> None:
        self._file.write(_RECORD.pack(direction, host_t, len(data)) + data)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class CaptureReader:
    """Chunks of a capture file after its header line (any split) -> the events of the session,
    with the receiver's counters."""

    def __init__(self) -> None:
        self._receiver = Receiver()
        self._buf = bytearray()
        self._fed = False
        self.broken = False
        """True once a record could not be read (a file that is not a Localite capture)."""
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
            if direction not in (FROM_DEVICE, FROM_HOST, SETTINGS, NEW_CONNECTION) or length > MAX_RECORD:
                self.broken = True
                break
            if len(buf) - i - size < length:
                break
            chunk = bytes(buf[i + size:i + size + length])
            i += size + length
            if direction == FROM_DEVICE:
                self._fed = True
                out += self._receiver.feed(chunk, host_t)
            elif direction == SETTINGS:
                self._settings(chunk)
            elif direction == NEW_CONNECTION:
                self._new_connection(chunk)
            else:
                self.host_bytes += length
        del buf[:i]
        return out

    def _new_connection(self, chunk: bytes) -> None:
        try:
            forget = json.loads(chunk).get("forget_visibility", True) is not False
        except (ValueError, AttributeError):
            self.broken = True
            return
        self._receiver.new_connection(forget_visibility=forget)

    def _settings(self, chunk: bytes) -> None:
        try:
            coil = json.loads(chunk).get("coil", 0)
        except (ValueError, AttributeError):
            self.broken = True
            return
        if coil not in (0, 1):
            self.broken = True
        elif not self._fed and coil != self._receiver.coil:
            self._receiver = Receiver(coil)  # before any byte: nothing is lost
        # a later settings record (a second session appended to the file) keeps the receiver


def read_capture(path: str | Path) -> tuple[list[ev.DeviceEvent], CaptureReader]:
    """Every event of a capture file, and the reader with its counts (tests, analysis)."""
    data = Path(path).read_bytes()
    if not data.startswith(HEADER):
        raise ValueError(f"{path} is not a Localite capture (no {HEADER!r} header line)")
    reader = CaptureReader()
    return reader.feed(data[len(HEADER):]), reader
