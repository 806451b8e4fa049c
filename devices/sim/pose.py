"""Coil pose as a pure function of the pose index, the seed and the scenario windows.

Pose k falls at device time ``k * 1000 // pose_hz``. Its jitter comes from a
random generator seeded with (seed, block of 256 poses), so the same seed gives
the same poses however the frames are batched. Drift and tracker-loss windows
are set by the run (they start at fractions of the run's active time) and are
applied here, vectorised with numpy: a 250 Hz pose stream at x1000 speed is a
quarter of a million frames a second of device time.
"""

from __future__ import annotations

import math

import numpy as np

from devices.sim.settings import SimSettings
from devices.tscp import POSE_FORMAT, POSE_HIDDEN_FORMAT

BLOCK = 256
_POSE_STREAM = 1


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternions (w, x, y, z) along the last axis (broadcasting)."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack((
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ), axis=-1)


class DriftWindow:
    """The coil slips along ``offset_mm`` and turns ``angle_deg`` about ``axis`` over ``ramp_ms``
    from ``start_t``; from ``back_t`` (when set) it is put back over ``back_ms``."""

    def __init__(self, start_t: int, ramp_ms: float, back_ms: float, offset_mm: np.ndarray,
                 angle_deg: float, axis: np.ndarray) -> None:
        self.start_t = start_t
        self.back_t: int | None = None
        self.ramp_ms = ramp_ms
        self.back_ms = back_ms
        self.offset_mm = offset_mm
        self.angle_rad = math.radians(angle_deg)
        self.axis = axis

    def fraction(self, t: np.ndarray) -> np.ndarray:
        """How far the slip has gone at device times ``t`` (0 = on target, 1 = fully slipped)."""
        f = np.clip((t - self.start_t) / self.ramp_ms, 0.0, 1.0)
        if self.back_t is not None:
            f_back = min(max((self.back_t - self.start_t) / self.ramp_ms, 0.0), 1.0)
            back = np.clip(1.0 - (t - self.back_t) / self.back_ms, 0.0, 1.0) * f_back
            f = np.where(t >= self.back_t, back, f)
        return f


class PoseModel:
    """Poses at ``pose_hz`` around the target, with jitter, drift and tracker-loss windows."""

    def __init__(self, settings: SimSettings, seed: int, pose_hz: int) -> None:
        self.seed = seed
        self.hz = pose_hz
        tg = settings.target
        self.position = np.array([tg.x, tg.y, tg.z])
        self.orientation = np.array([tg.qw, tg.qx, tg.qy, tg.qz])
        p = settings.pose
        self.sigma_mm = p.sigma_mm
        self.sigma_rad = math.radians(p.sigma_deg)
        self.clip = p.clip_sigmas
        self.q_lo, self.q_hi = p.quality_min, p.quality_max
        self.drift: DriftWindow | None = None
        self.hidden: list[tuple[int, int]] = []
        self._block_no = -1
        self._block: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def time_of(self, k: int) -> int:
        return k * 1000 // self.hz

    def first_after(self, t: int) -> int:
        """Index of the first pose with time > t."""
        return ((t + 1) * self.hz + 999) // 1000

    def _jitter_block(self, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if b != self._block_no:
            rng = np.random.default_rng([self.seed, _POSE_STREAM, b])
            z = np.clip(rng.standard_normal((BLOCK, 6)), -self.clip, self.clip)
            quality = rng.uniform(self.q_lo, self.q_hi, BLOCK)
            self._block = (z[:, :3] * self.sigma_mm, z[:, 3:] * self.sigma_rad, quality)
            self._block_no = b
        assert self._block is not None
        return self._block

    def _jitter(self, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        parts = []
        k = k0
        while k < k1:
            b, i = divmod(k, BLOCK)
            n = min(BLOCK - i, k1 - k)
            dp, dr, q = self._jitter_block(b)
            parts.append((dp[i : i + n], dr[i : i + n], q[i : i + n]))
            k += n
        if len(parts) == 1:
            return parts[0]
        dp, dr, q = (np.concatenate(p) for p in zip(*parts, strict=True))
        return dp, dr, q

    def payloads(self, k0: int, k1: int) -> list[str]:
        """POSE frame fields (after TYPE) for poses k0..k1-1, in the fixed decimals of TSCP."""
        if k1 <= k0:
            return []
        t = (np.arange(k0, k1, dtype=np.int64) * 1000) // self.hz
        dp, dr, quality = self._jitter(k0, k1)
        pos = self.position + dp
        half = dr * 0.5
        jit = np.concatenate((np.ones((k1 - k0, 1)), half), axis=1)
        quat = quat_multiply(self.orientation, jit)
        if self.drift is not None:
            f = self.drift.fraction(t.astype(np.float64))
            if f.any():
                pos = pos + f[:, None] * self.drift.offset_mm
                ang = f * self.drift.angle_rad * 0.5
                rot = np.concatenate((np.cos(ang)[:, None], np.sin(ang)[:, None] * self.drift.axis), axis=1)
                quat = quat_multiply(rot, quat)
        quat /= np.linalg.norm(quat, axis=1)[:, None]
        visible = np.ones(k1 - k0, dtype=bool)
        for h0, h1 in self.hidden:
            visible &= (t < h0) | (t >= h1)
        rows = np.concatenate((pos, quat, quality[:, None]), axis=1).tolist()
        ts = t.tolist()
        fmt = POSE_FORMAT  # the codec's places, so the simulator writes what format_pose_fields writes
        if visible.all():
            return [fmt % (ti, *r) for ti, r in zip(ts, rows, strict=True)]
        vis = visible.tolist()
        return [
            fmt % (ti, *r) if v else POSE_HIDDEN_FORMAT % ti
            for ti, r, v in zip(ts, rows, vis, strict=True)
        ]
