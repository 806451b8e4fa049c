"""Captures of an NDI link (``?capture=FILE``): what crossed the wire, to replay it exactly.

The file starts with the line ``TMSCAP1 ndi``; its records are the shared layout of
:mod:`devices.capture_records`. Unlike a stimulator's, the host's records matter on replay: the
Combined API is command -> reply, so the receiver reads each text reply by the command before it
and learns which handle is the coil from ``PENA``. Replaying feeds both directions to the same
:class:`~devices.ndi.codec.Receiver` in order, at the recorded times: the same events and counts.
"""

from __future__ import annotations

from pathlib import Path

from devices import events as ev
from devices.capture_records import FROM_DEVICE, FROM_HOST, MAX_RECORD, RecordReader, RecordWriter, read_file
from devices.ndi.codec import Receiver

HEADER = b"TMSCAP1 ndi\n"


class CaptureWriter(RecordWriter):
    """Appends records to an NDI capture file."""

    HEADER = HEADER


class CaptureReader(RecordReader):
    """Chunks of an NDI capture after its header line -> the session's events and counts."""

    def __init__(self, reply: str = "bx") -> None:
        super().__init__()
        self.receiver = Receiver(reply)

    def sent(self, chunk: bytes) -> None:
        self.receiver.sent(chunk)


def read_capture(path: str | Path) -> tuple[list[ev.DeviceEvent], CaptureReader]:
    """Every event of a capture file, and the reader with its counts (tests, analysis)."""
    reader = CaptureReader()
    return read_file(path, HEADER, reader, "an NDI"), reader


__all__ = ["FROM_DEVICE", "FROM_HOST", "HEADER", "MAX_RECORD", "CaptureReader", "CaptureWriter",
           "read_capture"]
