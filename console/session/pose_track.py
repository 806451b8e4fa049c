"""The coil's pose as the recorder follows it: the last pose, its deviation
from the target, the thinned pose rows and the distance trace for the plot.

Its own job, apart from the recorder's state machine: every pose frame
passes through here; the recorder only asks where the coil is.
"""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

from console.geometry import Deviation, PoseValue, deviation
from console.session.pose_thinning import PoseThinner
from console.session.recording_terms import RecorderConfig, rounded
from devices import events as ev

RECENT_POSES = 64
"""Poses kept to find the one nearest before a pulse (at 60 Hz, about a second's worth): with a
separate tracker, a pose may be read just after a pulse that came before it (issue 17)."""


class PoseAtPulse(NamedTuple):
    """The pose recorded with a pulse, its deviation from the target and its age at the pulse."""

    pose: PoseValue | None
    deviation: Deviation | None
    age_ms: int | None


NO_POSE = PoseAtPulse(None, None, None)


class PoseTrack:
    """Where the coil is now (``pose``, ``deviation``), seen at device time ``pose_t``."""

    def __init__(self, config: RecorderConfig) -> None:
        self.config = config
        self.pose: PoseValue | None = None
        self.pose_t: int | None = None
        self.pose_host_t: float | None = None  # when the host read the last pose (for latency figures)
        self.quality = 0.0
        self.deviation: Deviation | None = None
        self.had_pose = False  # the tracker has seen the coil this session
        self._thinner = PoseThinner(config.pose_thin_mm, config.pose_thin_deg, config.pose_keep_hz)
        self._idx = 0
        self._trace_t: int | None = None
        self._trace_visible: bool | None = None
        self._recent: deque[tuple[int, PoseValue | None, Deviation | None]] = deque(maxlen=RECENT_POSES)

    def see(self, e: ev.Pose, t: int | None) -> tuple[dict[str, Any] | None, float | None, bool]:
        """Take one pose frame at device time ``t``: the pose row to keep (or None when thinned
        away), and whether the plot's distance trace gets a point now (with its distance)."""
        x, y, z, qw, qx, qy, qz = e.x, e.y, e.z, e.qw, e.qx, e.qy, e.qz
        if x is None or y is None or z is None or qw is None or qx is None or qy is None or qz is None:
            pose = dev = None  # the tracker cannot see the coil (the codec gives all fields or none)
        else:
            pose = PoseValue(x, y, z, qw, qx, qy, qz)
            target = self.config.target
            dev = deviation(pose, target) if target is not None else None
            self.had_pose = True
        self.pose, self.pose_t, self.quality, self.deviation = pose, t, e.quality, dev
        self.pose_host_t = e.host_t
        if t is not None:
            self._recent.append((t, pose, dev))
        row = self._row(e, pose, dev, t)
        distance = rounded(dev.distance_mm) if dev is not None else None
        return row, distance, self._trace_due(pose is not None, t)

    def lose(self) -> None:
        """The device link is gone: nothing is known of the coil until the next frame."""
        self.pose = None
        self.deviation = None
        self._recent.clear()

    def pose_at_pulse(self, t: int | None) -> PoseAtPulse:
        """The pose nearest before a pulse at ``t``, with its deviation and age; :data:`NO_POSE`
        when there is none, or it is older than ``pose_max_age_ms`` (never a guessed pose), or the
        tracker could not see the coil then."""
        if t is None:
            return NO_POSE
        for pose_t, pose, dev in reversed(self._recent):
            if pose_t <= t:
                age = t - pose_t
                if pose is None or age > self.config.pose_max_age_ms:
                    return NO_POSE
                return PoseAtPulse(pose, dev, age)
        return NO_POSE

    def _row(self, e: ev.Pose, pose: PoseValue | None, dev: Deviation | None, t: int | None
             ) -> dict[str, Any] | None:
        if not self._thinner.keep(pose, t):
            return None
        row: dict[str, Any] = {
            "session_id": self.config.session_id, "idx": self._idx, "device_t_ms": e.device_t,
            "x": e.x, "y": e.y, "z": e.z, "qw": e.qw, "qx": e.qx, "qy": e.qy, "qz": e.qz,
            "quality": e.quality,
            "distance_mm": rounded(dev.distance_mm) if dev else None,
            "angle_deg": rounded(dev.angle_deg) if dev else None,
        }
        self._idx += 1
        return row

    def _trace_due(self, visible: bool, t: int | None) -> bool:
        """A trace point at most every ``trace_interval_ms``, and whenever the coil appears or hides."""
        if self.config.target is None or t is None:
            return False
        if (
            self._trace_t is not None
            and visible == self._trace_visible
            and t - self._trace_t < self.config.trace_interval_ms
        ):
            return False
        self._trace_t, self._trace_visible = t, visible
        return True
