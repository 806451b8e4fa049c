"""Clinic-editable data: protocol presets, safety tables, checklists, note templates.

This package is data, not code. The one helper here finds a resource file, so
that every layer (the simulator in ``devices/`` included) reads the same file.
A clinic may point ``TMS_CONSOLE_RESOURCES`` at a folder of its own edited
copies; a file missing there falls back to the shipped one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SHIPPED = Path(__file__).resolve().parent


def resource_path(name: str) -> Path:
    """The clinic's copy of ``name`` when it has one, else the shipped file."""
    override = os.environ.get("TMS_CONSOLE_RESOURCES")
    if override:
        candidate = Path(override) / name
        if candidate.exists():
            return candidate
    return SHIPPED / name


def load_json(name: str) -> Any:
    with resource_path(name).open(encoding="utf-8") as f:
        return json.load(f)
