"""The coil's pose in the head frame, from the two poses the tracker gives in its own frame.

The camera reports the coil tool (q_c, t_c) and the patient's head reference tool (q_r, t_r), each
mapping tool coordinates to camera coordinates. The coil in head coordinates is the reference's
inverse applied to the coil: ``q = conj(q_r) * q_c`` and ``t = R(q_r)^T (t_c - t_r)``. Plain floats,
not numpy: two tools at 60 Hz do not need vectors, and a float is exact to repeat on replay.
"""

from __future__ import annotations

import math

Quat = tuple[float, float, float, float]
Vec = tuple[float, float, float]


def quat_mul(a: Quat, b: Quat) -> Quat:
    """Hamilton product (w, x, y, z)."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw)


def quat_conj(q: Quat) -> Quat:
    return (q[0], -q[1], -q[2], -q[3])


def normalised(q: Quat) -> Quat:
    n = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


def rotate(q: Quat, v: Vec) -> Vec:
    """``v`` turned by the unit quaternion ``q``."""
    _w, x, y, z = quat_mul(quat_mul(q, (0.0, v[0], v[1], v[2])), quat_conj(q))
    return (x, y, z)


def compose(q_a: Quat, t_a: Vec, q_b: Quat, t_b: Vec) -> tuple[Quat, Vec]:
    """Pose a applied after pose b (b's coordinates -> a's parent)."""
    r = rotate(q_a, t_b)
    return quat_mul(q_a, q_b), (t_a[0] + r[0], t_a[1] + r[1], t_a[2] + r[2])


def coil_in_head(q_coil: Quat, t_coil: Vec, q_ref: Quat, t_ref: Vec) -> tuple[Quat, Vec]:
    """The coil's pose relative to the head reference; quaternions normalised first (TX carries four
    decimals), and the result kept with qw >= 0 (q and -q are the same turn)."""
    q_ref_inv = quat_conj(normalised(q_ref))
    q = normalised(quat_mul(q_ref_inv, normalised(q_coil)))
    if q[0] < 0:
        q = (-q[0], -q[1], -q[2], -q[3])
    d = (t_coil[0] - t_ref[0], t_coil[1] - t_ref[1], t_coil[2] - t_ref[2])
    return q, rotate(q_ref_inv, d)


def quality(rms_coil_mm: float, rms_ref_mm: float) -> float:
    """Tracking quality in (0, 1] from the RMS fit errors: ``1 / (1 + rms)`` of the worse tool, in mm.

    A perfect fit gives 1.0; 0.25 mm (a good passive tool) gives 0.8; 1 mm gives 0.5. Monotone and
    unit-free, so a console threshold reads as "RMS error below (1/q - 1) mm"."""
    return 1.0 / (1.0 + max(rms_coil_mm, rms_ref_mm))
