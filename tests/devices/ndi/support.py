"""Helpers for driving the simulated NDI tracker through the real adapter on a real pty."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devices import events as ev
from devices.adapter import DeviceAdapter

COIL_ROM = b"TMS-COIL passive tool ROM (test data, not a real SROM)"
REFERENCE_ROM = b"HEAD-REF passive tool ROM (test data, not a real SROM)"


def rom_files(folder: Path) -> tuple[Path, Path]:
    coil, ref = folder / "coil.rom", folder / "head_ref.rom"
    coil.write_bytes(COIL_ROM)
    ref.write_bytes(REFERENCE_ROM)
    return coil, ref


def rom_query(folder: Path, extra: str = "") -> str:
    coil, ref = rom_files(folder)
    return f"coil={coil}&reference={ref}" + (f"&{extra}" if extra else "")


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
            if time.monotonic() >= deadline:
                break
        if done(out):
            return out
    raise AssertionError(f"not done within {timeout} s; last events {out[-3:]}")


def poses(events: list[ev.DeviceEvent]) -> list[ev.Pose]:
    return [e for e in events if isinstance(e, ev.Pose)]


def of(events: list[ev.DeviceEvent], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def until_device_ms(ms: int) -> Callable[[list[ev.DeviceEvent]], bool]:
    """Done once a pose at device time >= ``ms`` arrived."""
    return lambda events: any(isinstance(e, ev.Pose) and e.device_t >= ms for e in events[-5:])


def fault_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
