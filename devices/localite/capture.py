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
from pathlib import Path

from devices import events as ev
from devices.capture_records import FROM_DEVICE, FROM_HOST, MAX_RECORD, RecordReader, RecordWriter, read_file
from devices.localite.codec import Receiver

HEADER = b"TMSCAP1 localite\n"
SETTINGS = b"C"
NEW_CONNECTION = b"N"


class CaptureWriter(RecordWriter):
    """Appends records to a Localite capture file; the adapter's settings first (a replay reads the
    same coil's keys)."""

    HEADER = HEADER

    def __init__(self, path: str | Path, coil: int) -> None:
        super().__init__(path)
        self.write(SETTINGS, 0.0, json.dumps({"coil": coil}).encode("ascii"))


class CaptureReader(RecordReader):
    """Chunks of a capture file after its header line (any split) -> the events of the session,
    with the receiver's counters."""

    OTHER = (SETTINGS, NEW_CONNECTION)

    def __init__(self) -> None:
        super().__init__()
        self.receiver = Receiver()
        self._fed = False

    def device(self, chunk: bytes, host_t: float) -> list[ev.DeviceEvent]:
        self._fed = True
        return super().device(chunk, host_t)

    def other(self, direction: bytes, chunk: bytes) -> None:
        if direction == SETTINGS:
            self._settings(chunk)
        else:
            self._new_connection(chunk)

    def _new_connection(self, chunk: bytes) -> None:
        try:
            forget = json.loads(chunk).get("forget_visibility", True) is not False
        except (ValueError, AttributeError):
            self.broken = True
            return
        self.receiver.new_connection(forget_visibility=forget)

    def _settings(self, chunk: bytes) -> None:
        try:
            coil = json.loads(chunk).get("coil", 0)
        except (ValueError, AttributeError):
            self.broken = True
            return
        if coil not in (0, 1):
            self.broken = True
        elif not self._fed and coil != self.receiver.coil:
            self.receiver = Receiver(coil)  # before any byte: nothing is lost
        # a later settings record (a second session appended to the file) keeps the receiver


def read_capture(path: str | Path) -> tuple[list[ev.DeviceEvent], CaptureReader]:
    """Every event of a capture file, and the reader with its counts (tests, analysis)."""
    reader = CaptureReader()
    return read_file(path, HEADER, reader, "a Localite"), reader


__all__ = ["FROM_DEVICE", "FROM_HOST", "HEADER", "MAX_RECORD", "NEW_CONNECTION", "SETTINGS", "CaptureReader",
           "CaptureWriter", "read_capture"]
