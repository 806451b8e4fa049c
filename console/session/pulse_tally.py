"""The pulses of one session: which counts arrived, and how well they were placed.

Kept apart from the recorder's state machine because counting is its own
rule set: a count that repeats is never stored twice, a jump in the count
is pulses missing (never invented), and the on-target statistics of the
session row come from the pulses that had a fresh pose.

A device that restarts mid-session (a new HELLO, or the same count again at
another device time) begins a new *segment*: its count starts again, and its
pulses are real pulses, not repeats. Stored pulse numbers run on across
segments (``count`` = the segment's offset + the device's count) so every
pulse of every run fits the pulses table's (session_id, count) key; the
"device_restarted" event keeps each segment's offset, from which the
device's own count is ``count - count_offset``. (A column beside ``count``
would change the signed record hash of every session already signed.)

Memory stays bounded however long the run: the device time of only the last
:data:`REPEAT_WINDOW` counts is kept (a repeat is a frame sent again within
moments, never thousands of pulses later). A count at or below one that was
forgotten is taken as the device starting its count again, a new segment,
since it cannot be told apart from a pulse stored long ago.
"""

from __future__ import annotations

from typing import Any

from console.geometry import Deviation, PoseValue
from console.session.recording_terms import RecorderConfig, rounded
from console.session.session_alarms import on_target as within_tolerance
from devices import events as ev

REPEAT_WINDOW = 2048
"""How many of the latest pulse counts keep their device time (to tell a repeat from a restart)."""


class PulseTally:
    """Pulse counts and placement statistics; ``row()`` builds one pulse's row."""

    def __init__(self, config: RecorderConfig) -> None:
        self.config = config
        self._counts: dict[int, int] = {}  # the device's count -> its device time, the latest ones
        self._forgotten = 0  # the highest count whose time was dropped from ``_counts`` (this segment)
        self.seg_max = 0  # the highest device count of this segment
        self.eos_pulses = 0  # the count the device gave at its end of session (this segment)
        self.segment = 0  # 0 until the device restarts its count
        self.offset = 0  # stored count = offset + the device's count
        self._greetings = 0  # the device's HELLOs seen up to the last pulse
        self.recorded = 0
        self.repeated = 0
        self.after_end = 0
        self.with_pose = 0
        self.on_target = 0
        self._distance_sum = 0.0
        self.max_distance_mm: float | None = None

    @property
    def delivered(self) -> int:
        """Pulses the device says it gave: earlier segments', and this one's highest PULSE or EOS count."""
        return self.offset + max(self.seg_max, self.eos_pulses)

    @property
    def max_count(self) -> int:
        """The highest stored pulse number."""
        return self.offset + self.seg_max

    def seen(self, count: int) -> bool:
        return count in self._counts or count <= self._forgotten

    @property
    def counts_kept(self) -> int:
        """How many counts keep their device time now (at most :data:`REPEAT_WINDOW`)."""
        return len(self._counts)

    def is_new_run(self, e: ev.Pulse, greetings: int) -> bool:
        """Whether ``e`` begins a new device run rather than repeating a pulse.

        A count at or below this segment's highest is a new run when the device
        said HELLO since the last pulse, or when that count was already seen at
        another device time; the same count at the same time is the same pulse.
        """
        if self.seg_max == 0 or e.count > self.seg_max:
            return False
        known_t = self._counts.get(e.count)
        if known_t is None and e.count <= self._forgotten:
            return True  # long past the window of repeats: the device counts again
        if known_t == e.device_t:
            return False
        return known_t is not None or greetings != self._greetings

    def new_segment(self) -> dict[str, Any]:
        """Begin a new device run; what the "device_restarted" event says of it."""
        detail = {"segment": self.segment + 1, "count_offset": self.delivered,
                  "previous_run_pulses": max(self.seg_max, self.eos_pulses)}
        self.offset = self.delivered
        self.segment += 1
        self._counts.clear()
        self._forgotten = 0
        self.seg_max = self.eos_pulses = 0
        return detail

    def row(
        self, e: ev.Pulse, train: int, pose: PoseValue | None, dev: Deviation | None, greetings: int,
        pose_age_ms: int | None = None,
    ) -> dict[str, Any]:
        """Count pulse ``e`` (new, not after the end) with the pose it was fired at; its row."""
        self._remember(e.count, e.device_t)
        self.seg_max = max(self.seg_max, e.count)
        self._greetings = greetings
        count = self.offset + e.count
        self.recorded += 1
        cfg = self.config
        on_target = distance = angle = None
        if dev is not None and dev.angle_deg is not None:
            distance, angle = dev.distance_mm, dev.angle_deg
            on = within_tolerance(distance, angle, cfg.tol_distance_mm, cfg.tol_angle_deg)
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
            "pose_age_ms": pose_age_ms if pose is not None else None,
        }

    def _remember(self, count: int, device_t: int) -> None:
        """Keep ``count``'s device time; past :data:`REPEAT_WINDOW` counts, the oldest is dropped."""
        counts = self._counts
        counts[count] = device_t
        if len(counts) > REPEAT_WINDOW:
            oldest = next(iter(counts))  # insertion order: the earliest kept
            del counts[oldest]
            self._forgotten = max(self._forgotten, oldest)

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
