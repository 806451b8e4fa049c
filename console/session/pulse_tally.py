"""The pulses of one session: which counts arrived, and how well they were placed.

Kept apart from the recorder's state machine because counting is its own
rule set: a count that repeats is never stored twice, a jump in the count
is pulses missing (never invented), and the on-target statistics of the
session row come from the pulses that had a fresh pose.
"""

from __future__ import annotations

from typing import Any

from console.geometry import Deviation, PoseValue
from console.session.recording_terms import RecorderConfig, rounded
from devices import events as ev


class PulseTally:
    """Pulse counts and placement statistics; ``row()`` builds one pulse's row."""

    def __init__(self, config: RecorderConfig) -> None:
        self.config = config
        self._counts: set[int] = set()
        self.max_count = 0
        self.eos_pulses = 0  # the count the device gave at its end of session
        self.recorded = 0
        self.repeated = 0
        self.after_end = 0
        self.with_pose = 0
        self.on_target = 0
        self._distance_sum = 0.0
        self.max_distance_mm: float | None = None

    @property
    def delivered(self) -> int:
        """The device's own count: the highest PULSE count or the EOS count, whichever is larger."""
        return max(self.max_count, self.eos_pulses)

    def seen(self, count: int) -> bool:
        return count in self._counts

    def row(self, e: ev.Pulse, train: int, pose: PoseValue | None, dev: Deviation | None) -> dict[str, Any]:
        """Count pulse ``e`` (new, not after the end) with the pose it was fired at; its row."""
        count = e.count
        self._counts.add(count)
        self.max_count = max(self.max_count, count)
        self.recorded += 1
        cfg = self.config
        on_target = distance = angle = None
        if dev is not None and dev.angle_deg is not None:
            distance, angle = dev.distance_mm, dev.angle_deg
            on = distance <= cfg.tol_distance_mm and angle <= cfg.tol_angle_deg
            on_target = int(on)
            self.with_pose += 1
            self.on_target += on
            self._distance_sum += distance
            if self.max_distance_mm is None or distance > self.max_distance_mm:
                self.max_distance_mm = distance
        return {
            "session_id": cfg.session_id, "count": count, "device_t_ms": e.device_t,
            "mso": e.mso, "didt": e.didt, "train": train or None,
            "x": pose.x if pose else None, "y": pose.y if pose else None,
            "z": pose.z if pose else None, "qw": pose.qw if pose else None,
            "qx": pose.qx if pose else None, "qy": pose.qy if pose else None,
            "qz": pose.qz if pose else None,
            "distance_mm": rounded(distance), "angle_deg": rounded(angle), "on_target": on_target,
        }

    def summary(self) -> dict[str, Any]:
        """The session row's pulse columns."""
        has_target = self.config.target is not None
        mean = self._distance_sum / self.with_pose if self.with_pose else None
        return {
            "pulses_delivered": self.delivered,
            "pulses_recorded": self.recorded,
            "pulses_on_target": self.on_target if has_target else None,
            "max_distance_mm": rounded(self.max_distance_mm),
            "mean_distance_mm": rounded(mean),
        }

    def on_target_share(self) -> float | None:
        """Pulses on target / pulses with a pose (None without a target or a placed pulse)."""
        if not self.with_pose or self.config.target is None:
            return None
        return self.on_target / self.with_pose
