"""The simulator's tunables, read from ``resources/simulator.json``.

They are data so a clinic (or a test) can change the target pose, the jitter
or the thermal model without touching code; this module only checks them and
turns them into typed values, with a message naming the bad key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from resources import load_json

SCENARIOS = ("drift", "tracker-loss", "overheat", "noise", "unplug")
NOISE_KINDS = ("garbage", "garbage_prefix", "corrupt_crc", "truncated")


class SettingsError(ValueError):
    """resources/simulator.json (or protocols.json) holds something unusable."""


@dataclass(frozen=True)
class Identity:
    vendor: str
    model: str
    serial: str
    firmware: str
    coil_id: str


@dataclass(frozen=True)
class Target:
    """Coil target in the head frame: position in mm, orientation as a unit quaternion."""

    x: float
    y: float
    z: float
    qw: float
    qx: float
    qy: float
    qz: float


@dataclass(frozen=True)
class PoseNoise:
    sigma_mm: float
    sigma_deg: float
    clip_sigmas: float
    quality_min: float
    quality_max: float


@dataclass(frozen=True)
class Thermal:
    ambient_c: float
    start_c: float
    tau_s: float
    heat_per_pulse_c: float
    fault_above_c: float
    clear_below_c: float


@dataclass(frozen=True)
class Drift:
    at: float
    back_at: float
    ramp_s: float
    back_s: float
    mm: float
    deg: float
    direction: tuple[float, float, float]
    axis: tuple[float, float, float]


@dataclass(frozen=True)
class SimSettings:
    identity: Identity
    default_mso: int
    autostart_delay_ms: int
    host_settle_s: float
    target: Target
    pose: PoseNoise
    didt_per_mso: float
    didt_rel_sigma: float
    thermal: Thermal
    drift: Drift
    tracker_loss_at: float
    tracker_loss_ms: int
    overheat_at: float
    overheat_heat_c: float
    noise_rate: float
    noise_kinds: dict[str, float]
    unplug_at: float
    unplug_ms: int
    unplug_min_wall_s: float


def _get(d: dict, path: str) -> Any:
    node: Any = d
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            raise SettingsError(f"simulator.json: missing {path!r}")
        node = node[key]
    return node


def _num(d: dict, path: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    v = _get(d, path)
    if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
        raise SettingsError(f"simulator.json: {path!r} must be a number in [{lo}, {hi}], got {v!r}")
    return float(v)


def _text(d: dict, path: str) -> str:
    v = _get(d, path)
    if not isinstance(v, str) or not v or any(c in v for c in ",$*\r\n"):
        raise SettingsError(f"simulator.json: {path!r} must be text without , $ * or line breaks")
    return v


def _unit_vector(d: dict, path: str) -> tuple[float, float, float]:
    v = _get(d, path)
    if not (isinstance(v, list) and len(v) == 3 and all(isinstance(c, int | float) for c in v)):
        raise SettingsError(f"simulator.json: {path!r} must be a list of 3 numbers")
    n = math.sqrt(sum(c * c for c in v))
    if n == 0:
        raise SettingsError(f"simulator.json: {path!r} must not be zero")
    return (v[0] / n, v[1] / n, v[2] / n)


def parse_settings(d: dict) -> SimSettings:
    qw, qx, qy, qz = (_num(d, f"target.{k}", -1, 1) for k in ("qw", "qx", "qy", "qz"))
    qn = math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
    if abs(qn - 1.0) > 1e-3:
        raise SettingsError("simulator.json: the target quaternion must have unit length")
    kinds = _get(d, "scenarios.noise.kinds")
    if not isinstance(kinds, dict) or not kinds or set(kinds) - set(NOISE_KINDS):
        raise SettingsError(f"simulator.json: scenarios.noise.kinds uses only {', '.join(NOISE_KINDS)}")
    weights = {k: _num(kinds, k, 0) for k in kinds}
    if sum(weights.values()) <= 0:
        raise SettingsError("simulator.json: scenarios.noise.kinds needs a positive weight")
    thermal = Thermal(
        _num(d, "thermal.ambient_c", -10, 60), _num(d, "thermal.start_c", -10, 60),
        _num(d, "thermal.cooling_tau_s", 1), _num(d, "thermal.heat_per_pulse_at_full_mso_c", 0, 10),
        _num(d, "thermal.fault_above_c", 0, 200), _num(d, "thermal.clear_below_c", 0, 200),
    )
    if not thermal.ambient_c < thermal.clear_below_c < thermal.fault_above_c:
        raise SettingsError("simulator.json: need ambient_c < clear_below_c < fault_above_c")
    drift = Drift(
        _num(d, "scenarios.drift.at", 0, 1), _num(d, "scenarios.drift.back_at", 0, 1),
        _num(d, "scenarios.drift.ramp_s", 0.001), _num(d, "scenarios.drift.back_s", 0.001),
        _num(d, "scenarios.drift.mm", 0, 100), _num(d, "scenarios.drift.deg", 0, 90),
        _unit_vector(d, "scenarios.drift.direction"), _unit_vector(d, "scenarios.drift.axis"),
    )
    if drift.back_at <= drift.at:
        raise SettingsError("simulator.json: scenarios.drift.back_at must come after 'at'")
    return SimSettings(
        identity=Identity(*(_text(d, f"identity.{k}")
                            for k in ("vendor", "model", "serial", "firmware", "coil_id"))),
        default_mso=int(_num(d, "default_mso", 0, 100)),
        autostart_delay_ms=round(_num(d, "autostart_delay_s", 0, 3600) * 1000),
        host_settle_s=_num(d, "host_settle_s", 0, 10),
        target=Target(_num(d, "target.x_mm"), _num(d, "target.y_mm"), _num(d, "target.z_mm"),
                      qw / qn, qx / qn, qy / qn, qz / qn),
        pose=PoseNoise(
            _num(d, "pose.jitter_sigma_mm", 0, 10), _num(d, "pose.jitter_sigma_deg", 0, 10),
            _num(d, "pose.jitter_clip_sigmas", 0.1, 10),
            _num(d, "pose.quality_min", 0.01, 1), _num(d, "pose.quality_max", 0.01, 1),
        ),
        didt_per_mso=_num(d, "pulse.didt_per_mso", 0, 100),
        didt_rel_sigma=_num(d, "pulse.didt_rel_sigma", 0, 0.5),
        thermal=thermal,
        drift=drift,
        tracker_loss_at=_num(d, "scenarios.tracker-loss.at", 0, 1),
        tracker_loss_ms=round(_num(d, "scenarios.tracker-loss.duration_s", 0.001, 3600) * 1000),
        overheat_at=_num(d, "scenarios.overheat.at", 0, 1),
        overheat_heat_c=_num(d, "scenarios.overheat.heat_per_pulse_c", 0.001, 10),
        noise_rate=_num(d, "scenarios.noise.rate", 0, 0.5),
        noise_kinds=weights,
        unplug_at=_num(d, "scenarios.unplug.at", 0, 1),
        unplug_ms=round(_num(d, "scenarios.unplug.duration_s", 0.001, 3600) * 1000),
        unplug_min_wall_s=_num(d, "scenarios.unplug.min_wall_s", 0, 60),
    )


def load_settings() -> SimSettings:
    try:
        data = load_json("simulator.json")
    except (OSError, ValueError) as e:
        raise SettingsError(f"cannot read simulator.json: {e}") from e
    if not isinstance(data, dict):
        raise SettingsError("simulator.json must hold an object")
    return parse_settings(data)
