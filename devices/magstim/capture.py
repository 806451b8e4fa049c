"""Capture of a Magstim link (``?capture=FILE``) and its replay.

The file starts ``TMSCAP1 magstim``; then one record per line,
``<kind> <host_t> <payload>``:

- ``M`` the unit (JSON: model, version, speed, control), first;
- ``>`` bytes the host wrote (hex), one command; an unlock command is
  written with every byte after its letter masked as ``*``, so the code
  (and its checksum) never reach the file;
- ``<`` bytes the unit sent (hex); ``x`` an exchange closed with no reply in
  time; ``t`` a moment the adapter's clock made pulses fall due;
- ``#`` the adapter's note (JSON: ``kind`` and ``data``): protocol loaded,
  run started/paused/resumed/ended, link lost/restored, which the wire does
  not carry.

Both directions are needed: a reply echoes only the command's letter, so
a fire and a disarm answer alike. :class:`CaptureReader` feeds the records
to the same :class:`~devices.magstim.codec.Receiver` the adapter used, in
the same order with the same host times, so the events and the counters are
those of the live session.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import IO, Any

from devices.events import DeviceEvent
from devices.magstim.codec import Receiver
from devices.magstim.rules import MODELS, Unit
from devices.private_file import open_private

HEADER = b"TMSCAP1 magstim\n"
MASK = ord("*")


class CaptureWriter:
    """Appends records to a capture file made readable by its owner only (0600)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[bytes] = open_private(self.path, "wb")
        self._file.write(HEADER)

    def _line(self, kind: str, host_t: float, payload: str = "") -> None:
        self._file.write(f"{kind} {host_t!r} {payload}\n".encode("ascii"))

    def meta(self, unit: Unit, *, speed: float, control: bool, host_t: float) -> None:
        self._line("M", host_t, json.dumps({"model": unit.model, "version": list(unit.version or ()),
                                            "speed": speed, "control": control}, separators=(",", ":")))

    def sent(self, data: bytes, host_t: float, *, secret: bool = False) -> None:
        if secret:
            data = data[:1] + bytes([MASK]) * (len(data) - 1)
        self._line(">", host_t, data.hex())

    def received(self, data: bytes, host_t: float) -> None:
        self._line("<", host_t, data.hex())

    def closed(self, host_t: float) -> None:
        self._line("x", host_t)

    def tick(self, host_t: float) -> None:
        self._line("t", host_t)

    def note(self, kind: str, data: dict[str, Any], host_t: float) -> None:
        self._line("#", host_t, json.dumps({"kind": kind, "data": data}, separators=(",", ":")))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class CaptureReader:
    """Chunks of a capture (after its header line, any split) -> the events of the live session."""

    def __init__(self) -> None:
        self.receiver: Receiver | None = None
        self._partial = b""
        self.bad_records = 0
        self._kept: deque[bytes] = deque(maxlen=50)

    @property
    def received(self) -> int:
        return self.receiver.received if self.receiver else 0

    @property
    def rejected(self) -> int:
        return (self.receiver.rejected if self.receiver else 0) + self.bad_records

    @property
    def missing(self) -> int:
        return self.receiver.missing if self.receiver else 0

    @property
    def rejected_lines(self) -> deque[bytes]:
        return self.receiver.rejected_lines if self.receiver else self._kept

    def feed(self, data: bytes) -> list[DeviceEvent]:
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        out: list[DeviceEvent] = []
        for line in lines:
            if line and not self._record(line, out):
                self.bad_records += 1
                self.rejected_lines.append(line[:64])
        return out

    def _record(self, line: bytes, out: list[DeviceEvent]) -> bool:
        parts = line.split(b" ", 2)
        if len(parts) < 2:
            return False
        kind = parts[0].decode("ascii", "replace")
        payload = parts[2] if len(parts) > 2 else b""
        try:
            t = float(parts[1])
            if kind == "M":
                meta = json.loads(payload)
                if meta["model"] not in MODELS:
                    return False
                version = tuple(meta["version"]) or None
                self.receiver = Receiver(Unit(meta["model"], version),
                                         speed=float(meta["speed"]), observes_pulses=bool(meta["control"]))
                return True
            r = self.receiver
            if r is None:
                return False
            if kind == ">":
                out += r.sent(bytes.fromhex(payload.decode("ascii")), t)
            elif kind == "<":
                out += r.feed(bytes.fromhex(payload.decode("ascii")), t)
            elif kind == "x":
                out += r.close(t)
            elif kind == "t":
                out += r.tick(t)
            elif kind == "#":
                note = json.loads(payload)
                out += r.view.note(str(note["kind"]), dict(note["data"]), t)
            else:
                return False
        except (ValueError, KeyError, TypeError):
            return False
        return True

