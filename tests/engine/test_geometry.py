"""Coil-to-target geometry: the numbers on-target decisions rest on."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.geometry import PoseValue, angle_deg, deviation, distance_mm, normalise, rotate


def about_z(deg: float) -> tuple[float, float, float, float]:
    half = math.radians(deg) / 2
    return (math.cos(half), 0.0, 0.0, math.sin(half))


def test_distance_is_euclidean_in_mm() -> None:
    assert distance_mm((0, 0, 0), (3, 4, 12)) == pytest.approx(13.0)


def test_angle_is_the_rotation_between_orientations() -> None:
    assert angle_deg(about_z(0), about_z(90)) == pytest.approx(90.0)
    assert angle_deg(about_z(10), about_z(12.5)) == pytest.approx(2.5)


def test_angle_ignores_quaternion_sign_and_scale() -> None:
    q = about_z(30)
    minus = tuple(-c for c in q)
    scaled = tuple(2.7 * c for c in about_z(33))
    assert angle_deg(q, minus) == pytest.approx(0.0, abs=1e-9)
    assert angle_deg(q, scaled) == pytest.approx(3.0)


def test_rounded_quaternion_of_the_same_orientation_is_zero_degrees() -> None:
    # four decimals as TSCP sends them: |q| is not exactly 1
    q = (0.9239, 0.0, 0.3827, 0.0)
    assert angle_deg(q, q) == pytest.approx(0.0, abs=1e-6)


def test_zero_quaternion_gives_no_angle_rather_than_a_guess() -> None:
    assert normalise((0, 0, 0, 0)) is None
    assert angle_deg((0, 0, 0, 0), (1, 0, 0, 0)) is None
    with pytest.raises(ValueError):
        PoseValue.from_mapping({"x": 0, "y": 0, "z": 0, "qw": 0, "qx": 0, "qy": 0, "qz": 0})


def test_offset_is_expressed_in_the_target_frame() -> None:
    # target turned 90 degrees about z: its x axis is the head frame's y axis
    target = PoseValue(10.0, 20.0, 30.0, *about_z(90))
    coil = PoseValue(10.0, 22.0, 31.0, *about_z(90))
    d = deviation(coil, target)
    assert d.offset_x_mm == pytest.approx(2.0)
    assert d.offset_y_mm == pytest.approx(0.0, abs=1e-9)
    assert d.depth_mm == pytest.approx(1.0)
    assert d.distance_mm == pytest.approx(math.sqrt(5))
    assert d.angle_deg == pytest.approx(0.0, abs=1e-9)


def test_target_pose_round_trips_through_json() -> None:
    target = PoseValue(-42.1, 38.55, 61.2, 0.9239, 0.0, 0.3827, 0.0)
    assert PoseValue.from_json(target.to_json()) == target
    assert PoseValue.from_json(None) is None
    with pytest.raises(ValueError):
        PoseValue.from_json('{"x": 1}')


unit = st.floats(-1, 1, allow_nan=False)


@given(st.tuples(unit, unit, unit, unit).filter(lambda q: sum(c * c for c in q) > 1e-3),
       st.tuples(st.floats(-100, 100), st.floats(-100, 100), st.floats(-100, 100)))
def test_rotation_keeps_length_and_offset_keeps_distance(q, v) -> None:
    n = normalise(q)
    assert n is not None
    r = rotate(n, v)
    assert math.dist(r, (0, 0, 0)) == pytest.approx(math.dist(v, (0, 0, 0)), abs=1e-6)
    target = PoseValue(1.0, 2.0, 3.0, *q)
    coil = PoseValue(1.0 + v[0], 2.0 + v[1], 3.0 + v[2], *q)
    d = deviation(coil, target)
    assert math.hypot(d.offset_x_mm, d.offset_y_mm, d.depth_mm) == pytest.approx(d.distance_mm, abs=1e-6)
