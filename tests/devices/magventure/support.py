"""Helpers for driving the simulated MagPro through the real adapter on a real pty."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devices import events as ev
from devices.adapter import DeviceAdapter


def collect(adapter: DeviceAdapter, done: Callable[[list[ev.DeviceEvent]], bool],
            timeout: float = 60.0) -> list[ev.DeviceEvent]:
    """Events until ``done(events)`` holds (checked as they arrive) or ``timeout`` passes."""
    out: list[ev.DeviceEvent] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in adapter.events(idle_timeout=0.1):
            out.append(event)
            if done(out):
                return out
        if done(out):
            return out
    raise AssertionError(f"not done within {timeout} s; last events {out[-3:]}")


def collect_for(adapter: DeviceAdapter, seconds: float) -> list[ev.DeviceEvent]:
    """Every event of the next ``seconds``."""
    out: list[ev.DeviceEvent] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        out += adapter.events(idle_timeout=0.1)
    return out


def drain(adapter: DeviceAdapter) -> list[ev.DeviceEvent]:
    """What is still queued (after close(): everything up to the end)."""
    return list(adapter.events(idle_timeout=0.0))


def pulses(events: list[ev.DeviceEvent]) -> list[ev.Pulse]:
    return [e for e in events if isinstance(e, ev.Pulse)]


def of(events: list[ev.DeviceEvent], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def n_pulses(n: int) -> Callable[[list[ev.DeviceEvent]], bool]:
    return lambda events: sum(isinstance(e, ev.Pulse) for e in events) >= n


def fault_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
