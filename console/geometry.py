"""Coil-to-target geometry: distance, angle and the coil's offset in the target's frame.

Poses are positions in mm and orientations as quaternions ``(w, x, y, z)``
in the head frame. The tracker should send unit quaternions, but a rounded
or slightly wrong one must not produce a wrong angle (``acos`` of 1.0001 is
an error, of 0.9999 a false 1.6 degrees), so every quaternion is normalised
here and a zero one is refused rather than guessed.

The target's frame: its z axis is the coil's normal (pointing into the head),
x and y lie in the coil plane. The technician sees the in-plane offset (x, y)
and the depth (z) separately, because sliding along the scalp and lifting the
coil off it are corrected differently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

Quat = tuple[float, float, float, float]
Vec3 = tuple[float, float, float]

POSE_FIELDS = ("x", "y", "z", "qw", "qx", "qy", "qz")


class PoseValue(NamedTuple):
    """A coil or target pose: position (mm) and orientation quaternion (w, x, y, z)."""

    x: float
    y: float
    z: float
    qw: float
    qx: float
    qy: float
    qz: float

    @property
    def position(self) -> Vec3:
        return (self.x, self.y, self.z)

    @property
    def quaternion(self) -> Quat:
        return (self.qw, self.qx, self.qy, self.qz)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(POSE_FIELDS, self, strict=True))

    def to_json(self) -> str:
        return json.dumps(self.as_dict())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PoseValue:
        """A pose from ``{"x":..,"y":..,"z":..,"qw":..,"qx":..,"qy":..,"qz":..}``.

        Raises ValueError when a field is missing, not a number, or the
        quaternion is zero: a target is never half-known.
        """
        try:
            values = [float(data[k]) for k in POSE_FIELDS]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"a pose needs numbers for {', '.join(POSE_FIELDS)}: {exc}") from exc
        if not all(math.isfinite(v) for v in values):
            raise ValueError("a pose must be finite numbers")
        pose = cls(*values)
        if normalise(pose.quaternion) is None:
            raise ValueError("a pose orientation cannot be a zero quaternion")
        return pose

    @classmethod
    def from_json(cls, text: str | None) -> PoseValue | None:
        """The pose stored as JSON text (sessions.target_pose), or None when there is none."""
        if text is None or not str(text).strip():
            return None
        data = json.loads(text)
        if data is None:
            return None
        return cls.from_mapping(data)


def normalise(q: Quat) -> Quat | None:
    """``q`` scaled to unit length, or None for a zero (meaningless) quaternion."""
    w, x, y, z = q
    n = math.sqrt(w * w + x * x + y * y + z * z)
    if n < 1e-9 or not math.isfinite(n):
        return None
    return (w / n, x / n, y / n, z / n)


def distance_mm(a: Vec3, b: Vec3) -> float:
    """Straight-line distance between two positions (mm)."""
    return math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2)


def angle_deg(q1: Quat, q2: Quat) -> float | None:
    """The rotation (degrees, 0..180) that turns orientation q1 into q2.

    Equal to ``2 * acos(|<q1, q2>|)`` on normalised quaternions, computed as
    ``2 * atan2(|v|, |w|)`` of the relative rotation, which stays exact for
    the small angles a tolerance of a few degrees is about. q and -q (the
    same orientation) agree. None when either quaternion is zero.
    """
    a = normalise(q1)
    b = normalise(q2)
    if a is None or b is None:
        return None
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    # relative rotation r = conj(a) * b
    rw = aw * bw + ax * bx + ay * by + az * bz
    rx = aw * bx - ax * bw - ay * bz + az * by
    ry = aw * by + ax * bz - ay * bw - az * bx
    rz = aw * bz - ax * by + ay * bx - az * bw
    return math.degrees(2.0 * math.atan2(math.sqrt(rx * rx + ry * ry + rz * rz), abs(rw)))


def rotate(q: Quat, v: Vec3) -> Vec3:
    """Vector ``v`` rotated by unit quaternion ``q`` (q v q*)."""
    w, qx, qy, qz = q
    vx, vy, vz = v
    # t = 2 * (q_vec x v); v' = v + w t + q_vec x t
    tx = 2.0 * (qy * vz - qz * vy)
    ty = 2.0 * (qz * vx - qx * vz)
    tz = 2.0 * (qx * vy - qy * vx)
    return (
        vx + w * tx + (qy * tz - qz * ty),
        vy + w * ty + (qz * tx - qx * tz),
        vz + w * tz + (qx * ty - qy * tx),
    )


def conjugate(q: Quat) -> Quat:
    return (q[0], -q[1], -q[2], -q[3])


class Deviation(NamedTuple):
    """Where the coil is relative to the target."""

    distance_mm: float
    angle_deg: float | None
    offset_x_mm: float | None
    offset_y_mm: float | None
    depth_mm: float | None


def deviation(coil: PoseValue, target: PoseValue) -> Deviation:
    """Distance, angle and the coil's offset expressed in the target's frame.

    Offsets are None when the target orientation is unusable (a zero
    quaternion), never computed from a guessed frame.
    """
    dist = distance_mm(coil.position, target.position)
    ang = angle_deg(coil.quaternion, target.quaternion)
    tq = normalise(target.quaternion)
    if tq is None:
        return Deviation(dist, ang, None, None, None)
    d = (coil.x - target.x, coil.y - target.y, coil.z - target.z)
    ox, oy, oz = rotate(conjugate(tq), d)
    return Deviation(dist, ang, ox, oy, oz)


def pose_change(a: PoseValue, b: PoseValue) -> tuple[float, float]:
    """How far (mm) and how much (degrees) pose b moved from pose a."""
    ang = angle_deg(a.quaternion, b.quaternion)
    return distance_mm(a.position, b.position), (0.0 if ang is None else ang)
