"""The demo's device: the simulator started as its own process on a pty, the
way a separate stimulator would be plugged in, so the console reads it
through pyserial exactly as it reads hardware.

The simulator's speed is real time by default (a 10 Hz session takes its
37 minutes); ``TMS_CONSOLE_DEMO_SPEED`` (1 to 1000) makes it faster for a
quick look, and ``TMS_CONSOLE_DEMO_SCENARIOS`` (comma-separated: drift,
tracker-loss, overheat, noise, unplug) shows what the alarms look like.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from devices.sim.process import SimulatorError, SimulatorProcess

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


class DemoDevice:
    """Starts and stops the demo's simulated stimulator; ``url`` is what the device panel offers."""

    def __init__(self, protocol: str = "10hz") -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="tms-demo-")
        # A stable name for the device (like /dev/serial/by-id): the unplug scenario re-points it.
        self.link = Path(self._dir.name) / "tms-demo-device"
        self.sim = SimulatorProcess(protocol, speed=_speed(), scenarios=_scenarios(), link=self.link)
        self.url: str | None = None
        self.problem: str | None = None

    def start(self) -> str | None:
        """The device's address, or None (``problem`` says why) when the simulator did not start."""
        try:
            self.sim.start()
        except SimulatorError as exc:
            self.problem = f"The demo device did not start: {exc}"
            log.error("%s", self.problem)
            return None
        self.url = self.sim.url
        log.info("demo device on %s (speed x%g)", self.url, _speed())
        return self.url

    def stop(self) -> None:
        self.sim.stop()
        self._dir.cleanup()
