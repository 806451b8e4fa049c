"""The simulator's fault log: one JSON object per line for every fault it injected.

Each record names its ``kind`` and device time and says what a TSCP receiver
must count for it (``rejected``, ``missing``), so a test sums the log and
compares with what its Receiver counted. Scenario moments (drift, tracker
loss, over-temperature, unplug windows with the pulses lost) are logged too,
with zero counts. Lines are flushed as written: a test may read while the
simulator runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO


class FaultLog:
    def __init__(self, path: Path | None) -> None:
        self._file: TextIO | None = path.open("w", encoding="utf-8") if path is not None else None

    def write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            return
        record.setdefault("rejected", 0)
        record.setdefault("missing", 0)
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_fault_log(path: Path) -> list[dict[str, Any]]:
    """The records of a fault log (an absent file is an empty log)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def expected_counts(records: list[dict[str, Any]]) -> tuple[int, int]:
    """(rejected, missing) a receiver that read the whole stream must have counted."""
    return sum(r.get("rejected", 0) for r in records), sum(r.get("missing", 0) for r in records)
