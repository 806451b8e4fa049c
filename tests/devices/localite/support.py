"""Helpers for the Localite tests: worked messages, and driving the simulated Navigator."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from devices import events as ev
from devices.adapter import DeviceAdapter
from devices.sim.settings import load_settings


def msg(obj: dict[str, Any]) -> bytes:
    """One object as Navigator sends it (no delimiter)."""
    return json.dumps(obj).encode("ascii")


def position(x: float, y: float, z: float, q0: float = 1.0, qx: float = 0.0, qy: float = 0.0,
             qz: float = 0.0, coil: int = 0) -> bytes:
    return msg({f"coil_{coil}_position": {"q0": q0, "qx": qx, "qy": qy, "qz": qz, "x": x, "y": y, "z": z}})


SEEN = msg({"patient_registration_status": "REGISTERED"}) + msg({"coil_0_status": "OK"}) + msg(
    {"reference_status": "OK"})


def trace(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def traced_positions(path: Path) -> list[dict[str, Any]]:
    """The simulator's position answers, in order, with the pose it sent and whether it was seen."""
    return [r for r in trace(path) if "pose" in r]


def distance_to_target(pose: ev.Pose) -> float:
    tg = load_settings().target
    assert pose.x is not None and pose.y is not None and pose.z is not None
    return math.dist((pose.x, pose.y, pose.z), (tg.x, tg.y, tg.z))


def poses(events: list[ev.DeviceEvent]) -> list[ev.Pose]:
    return [e for e in events if isinstance(e, ev.Pose)]


def collect_for(adapter: DeviceAdapter, seconds: float) -> list[ev.DeviceEvent]:
    """Every event of the next ``seconds`` (checked per event: a tracker's stream never idles)."""
    out: list[ev.DeviceEvent] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for event in adapter.events(idle_timeout=0.1):
            out.append(event)
            if time.monotonic() >= deadline:
                break
    return out
