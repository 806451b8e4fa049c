"""Captures of a MagVenture link (``?capture=FILE``): what crossed the wire, to replay it exactly.

The file starts with the line ``TMSCAP1 magventure``; its records are the shared layout of
:mod:`devices.capture_records`. The read chunks are kept as read, with the time they were read,
so a replay feeds the same :class:`~devices.magventure.codec.Receiver` the same bytes at the same
times: the same events (device_t is derived from those times), and the same counts. The
console's own commands are kept too (for diagnosis) and skipped on replay.
"""

from __future__ import annotations

from pathlib import Path

from devices import events as ev
from devices.capture_records import FROM_DEVICE, FROM_HOST, MAX_RECORD, RecordReader, RecordWriter, read_file
from devices.magventure.codec import Receiver

HEADER = b"TMSCAP1 magventure\n"


class CaptureWriter(RecordWriter):
    """Appends records to a MagVenture capture file."""

    HEADER = HEADER


class CaptureReader(RecordReader):
    """Chunks of a MagVenture capture after its header line -> the session's events and counts."""

    def __init__(self) -> None:
        super().__init__()
        self.receiver = Receiver()


def read_capture(path: str | Path) -> tuple[list[ev.DeviceEvent], CaptureReader]:
    """Every event of a capture file, and the reader with its counts (tests, analysis)."""
    reader = CaptureReader()
    return read_file(path, HEADER, reader, "a MagVenture"), reader


__all__ = ["FROM_DEVICE", "FROM_HOST", "HEADER", "MAX_RECORD", "CaptureReader", "CaptureWriter",
           "read_capture"]
