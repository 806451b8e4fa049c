"""The demo's device: the simulated stimulator, as a ``sim://`` address.

Each connection starts the simulator as its own process on a pseudo-terminal,
as a separate device would be (devices/sim/adapter.py), and closing the
session's adapter stops it. The simulator's speed is real time by default (a
10 Hz session takes its 37 minutes); ``TMS_CONSOLE_DEMO_SPEED`` (1 to 1000)
makes it faster for a quick look, and ``TMS_CONSOLE_DEMO_SCENARIOS``
(comma-separated: drift, tracker-loss, overheat, noise, unplug) shows what the
alarms look like.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def _speed() -> float:
    raw = os.environ.get("TMS_CONSOLE_DEMO_SPEED", "1")
    try:
        return min(1000.0, max(1.0, float(raw)))
    except ValueError:
        log.warning("TMS_CONSOLE_DEMO_SPEED=%r is not a number; the demo runs in real time", raw)
        return 1.0


def _scenarios() -> list[str]:
    raw = os.environ.get("TMS_CONSOLE_DEMO_SCENARIOS", "")
    return [s.strip() for s in raw.split(",") if s.strip()]


def demo_device_url(protocol: str = "10hz") -> str:
    """The address the device panel offers in the demo."""
    url = f"sim://{protocol}?speed={_speed():g}"
    scenarios = _scenarios()
    if scenarios:
        url += "&scenario=" + ",".join(scenarios)
    return url
