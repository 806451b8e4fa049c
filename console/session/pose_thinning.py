"""Which coil poses between pulses are worth keeping.

A tracker sends 30 to 250 poses a second; a 37.5-minute session must stay
well under a megabyte, while every pulse keeps its own exact pose anyway.
A pose is kept when the coil moved more than ``mm`` or turned more than
``deg`` since the last kept one, when it appears or disappears from the
tracker's view, and at least every ``1 / keep_hz`` seconds of device time,
so a still coil still leaves a steady trace.
"""

from __future__ import annotations

from console.geometry import PoseValue, pose_change


class PoseThinner:
    def __init__(self, mm: float = 0.5, deg: float = 0.5, keep_hz: float = 1.0) -> None:
        self.mm = mm
        self.deg = deg
        self.keep_ms = 1000.0 / keep_hz if keep_hz > 0 else 1000.0
        self._pose: PoseValue | None = None
        self._visible: bool | None = None
        self._t: int | None = None

    def keep(self, pose: PoseValue | None, t: int | None) -> bool:
        """Whether to keep this pose (None = the coil is not visible) seen at device ms ``t``."""
        visible = pose is not None
        keep = self._t is None or visible != self._visible or t is None or t - self._t >= self.keep_ms
        if not keep and pose is not None and self._pose is not None:
            moved, turned = pose_change(self._pose, pose)
            keep = moved > self.mm or turned > self.deg
        if keep:
            self._pose, self._visible, self._t = pose, visible, t
        return keep
