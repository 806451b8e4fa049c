"""A stand-in session runner for widget tests: the snapshots are set by the
test, and every action is recorded. The real runner is exercised end to end
in test_session_flow.py through the simulator on a pty."""

from __future__ import annotations

import dataclasses
from typing import Any

from console.session.snapshot import LiveSnapshot, SeriesPoint


class FakeRunner:
    def __init__(self, snap: LiveSnapshot | None = None) -> None:
        self.snap = snap or LiveSnapshot(session_id=1, state="ready", device_connected=True)
        self.series: list[SeriesPoint] = []
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.snapshots_taken = 0
        self.session_id = self.snap.session_id

    @classmethod
    def for_session(cls, session_id: int) -> FakeRunner:
        """A runner whose session row exists (the test made it)."""
        return cls(LiveSnapshot(session_id=session_id, state="ready", device_connected=True))

    # LiveSource
    def snapshot(self) -> LiveSnapshot:
        self.snapshots_taken += 1
        return dataclasses.replace(self.snap, series_len=len(self.series))

    def series_since(self, n: int) -> list[SeriesPoint]:
        return self.series[n:]

    def update(self, **changes: Any) -> None:
        self.snap = dataclasses.replace(self.snap, **changes)

    # actions
    def _record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))

    def tracker_label(self) -> str | None:
        return None  # one device: no coil tracker apart from the stimulator

    def start(self, by: str | None = None) -> None:
        self._record("start", by=by)
        self.update(state="running")

    def pause(self, reason: str | None = None, by: str | None = None) -> None:
        self._record("pause", reason, by=by)
        self.update(state="paused", pause_reason=reason)

    def resume(self, by: str | None = None) -> None:
        self._record("resume", by=by)
        self.update(state="running", pause_reason=None)

    def stop(self, reason: str, by: str | None = None) -> None:
        self._record("stop", reason, by=by)
        self.update(state="ended", end_status="stopped", end_reason=reason)

    def add_note(self, text: str, by: str | None = None) -> None:
        self._record("add_note", text, by=by)

    def add_side_effect(self, kind: str, rating: int, note: str | None = None, by: str | None = None) -> None:
        self._record("add_side_effect", kind, rating, note, by=by)

    def close(self, reason: str = "recording closed") -> None:
        self._record("close", reason)

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def give_reason(self, what: str, reason: str | None, by: str | None = None) -> None:
        """A reason asked after a Stop or Pause that already acted."""
        self._record("give_reason", what, reason, by=by)
