"""What one simulator process was asked to do (its command-line options, checked)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devices.protocol import ProtocolSpec
from devices.sim.settings import SCENARIOS

MAX_SPEED = 1000.0
MAX_POSE_HZ = 250


@dataclass(frozen=True)
class SimConfig:
    protocol: ProtocolSpec | None
    """Loaded at start-up (a preset), or None: the device starts IDLE and waits for LOAD."""
    mso: int = 62
    speed: float = 1.0
    seed: int = 1
    pose_hz: int = 30
    autostart: bool = False
    exit_after_eos: bool = False
    link: Path | None = None
    fault_log: Path | None = None
    scenarios: tuple[str, ...] = ()
    tcp_port: int | None = None
    no_commands: bool = False
    """A recording-only device: NAK UNSUPPORTED to all but ID? and PING; it starts on its own."""

    @property
    def starts_itself(self) -> bool:
        return self.autostart or self.no_commands

    def problem(self) -> str | None:
        """Why this configuration cannot run, in words for the person who typed it."""
        if not 0 <= self.mso <= 100:
            return f"--mso must be 0..100 (% of maximum stimulator output), got {self.mso}"
        if not 1.0 <= self.speed <= MAX_SPEED:
            return f"--speed must be between 1 and {MAX_SPEED:g}, got {self.speed:g}"
        if not 1 <= self.pose_hz <= MAX_POSE_HZ:
            return f"--pose-hz must be between 1 and {MAX_POSE_HZ}, got {self.pose_hz}"
        if self.seed < 0:
            return f"--seed must be 0 or more, got {self.seed}"
        unknown = [s for s in self.scenarios if s not in SCENARIOS]
        if unknown:
            return f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}"
        if self.tcp_port is not None and not 0 <= self.tcp_port <= 65535:
            return f"--tcp must be a port number 0..65535, got {self.tcp_port}"
        if self.tcp_port is not None and self.link is not None:
            return "--link names a pseudo-terminal; it cannot be used with --tcp"
        if self.link is not None and self.link.exists() and not self.link.is_symlink():
            return f"--link {self.link} exists and is not a symbolic link; it will not be replaced"
        if self.link is not None and not self.link.parent.is_dir():
            return f"--link {self.link}: the folder {self.link.parent} does not exist"
        if self.fault_log is not None and not self.fault_log.parent.is_dir():
            return f"--fault-log {self.fault_log}: the folder {self.fault_log.parent} does not exist"
        return None
