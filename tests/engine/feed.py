"""Builds device event sequences for recorder tests: one device clock, host time following it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from console.geometry import PoseValue
from console.session.recorder import SessionRecorder
from console.session.recording_terms import RecorderConfig, WallClock
from devices import events as ev

TARGET = PoseValue(-42.0, 38.0, 61.0, 1.0, 0.0, 0.0, 0.0)
CLOCK = WallClock(0.0, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


class Feed:
    """A device talking to a recorder; ``t`` is device ms, host time = t / 1000 s."""

    def __init__(self, **config: Any) -> None:
        config.setdefault("session_id", 7)
        config.setdefault("target", TARGET)
        self.rec = SessionRecorder(RecorderConfig(**config), CLOCK)
        self.t = 1000
        self.pulses: list[dict] = []
        self.poses: list[dict] = []
        self.events: list[dict] = []

    @property
    def h(self) -> float:
        return self.t / 1000.0

    def send(self, event: Any) -> None:
        self.rec.feed(event)
        self.collect()

    def collect(self) -> None:
        rows = self.rec.take_rows()
        self.pulses += rows.pulses
        self.poses += rows.poses
        self.events += rows.events

    def wait(self, ms: int) -> None:
        self.t += ms

    def pose(self, dx: float = 0.0, dy: float = 0.0, dz: float = 0.0, q=(1.0, 0.0, 0.0, 0.0),
             visible: bool = True) -> None:
        if visible:
            self.send(ev.Pose(self.t, self.h, TARGET.x + dx, TARGET.y + dy, TARGET.z + dz, *q, 0.98))
        else:
            self.send(ev.Pose(self.t, self.h, None, None, None, None, None, None, None, 0.0))

    def pulse(self, count: int, mso: int = 62) -> None:
        self.send(ev.Pulse(self.t, self.h, count, mso, 140.0))

    def status(self, state: str, mso: int = 62) -> None:
        self.send(ev.Status(self.t, self.h, state, mso, 30.0, "C-B60"))

    def train(self, n: int, phase: str, pulses: int) -> None:
        self.send(ev.Train(self.t, self.h, n, phase, pulses))

    def eos(self, pulses: int, reason: str = "COMPLETE") -> None:
        self.send(ev.EndOfSession(self.t, self.h, pulses, reason))

    def kinds(self, kind: str | None = None) -> list[tuple[str, str | None]]:
        return [(e["kind"], e["code"]) for e in self.events if kind is None or e["kind"] == kind]

    def detail(self, kind: str, code: str | None = None) -> list[dict]:
        return [json.loads(e["detail"]) if e["detail"] else {} for e in self.events
                if e["kind"] == kind and (code is None or e["code"] == code)]
