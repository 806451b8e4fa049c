"""The live view's snapshot of a session, built from the recorder's state.

Kept apart from the recorder (which decides what is recorded) because it
only reads: what the technician sees at one instant, zones and shares
worked out from the recorder's numbers. Reads ``SessionRecorder``
attributes; the runner calls it under its lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.session.snapshot import LiveSnapshot

if TYPE_CHECKING:
    from console.session.recorder import SessionRecorder


def _r(v: float | None, digits: int = 3) -> float | None:
    return None if v is None else round(v, digits)


def zone_of(distance_mm: float, angle_deg: float, tol_mm: float, tol_deg: float) -> str:
    """on (within tolerance), near (within twice), off."""
    if distance_mm <= tol_mm and angle_deg <= tol_deg:
        return "on"
    if distance_mm <= 2 * tol_mm and angle_deg <= 2 * tol_deg:
        return "near"
    return "off"


def build_snapshot(rec: SessionRecorder) -> LiveSnapshot:
    """What the technician sees now."""
    cfg = rec.config
    dev = rec.deviation
    visible = rec.pose is not None
    zone = "none"
    if visible and dev is not None and dev.angle_deg is not None:
        zone = zone_of(dev.distance_mm, dev.angle_deg, cfg.tol_distance_mm, cfg.tol_angle_deg)
    percent_mt = None
    if rec.mso is not None and cfg.mt_mso:
        percent_mt = round(100.0 * rec.mso / cfg.mt_mso, 1)
    elapsed = rec.duration_s or 0.0
    remaining = None
    if rec.protocol is not None and not rec.ended:
        remaining = round(rec.protocol.remaining_s(rec.pulses_delivered), 1)
    identity = rec.identity
    label = f"{identity.vendor} {identity.model} {identity.serial}" if identity else None
    extra: dict[str, Any] = {
        "stopping": rec.stopping,
        "alarms_acknowledged": tuple(sorted(rec.acknowledged & set(rec.alarms))),
        "pulses_repeated": rec.pulses_repeated,
        "coil_temp_c": rec.coil_temp_c,
        "quality": rec.pose_quality,
    }
    return LiveSnapshot(
        session_id=cfg.session_id,
        state=rec.state,
        end_status=rec.end_status,
        end_reason=rec.end_reason,
        device_connected=rec.device_connected,
        device_state=rec.device_state,
        device_label=label,
        protocol_name=rec.protocol.name if rec.protocol else None,
        pulses_delivered=rec.pulses_delivered,
        pulses_recorded=rec.pulses_recorded,
        pulses_planned=rec.protocol.planned_pulses if rec.protocol else None,
        train=rec.train,
        trains_planned=rec.protocol.trains if rec.protocol else None,
        mso=rec.mso,
        prescribed_mso=cfg.prescribed_mso,
        mt_mso=cfg.mt_mso,
        percent_mt=percent_mt,
        elapsed_s=elapsed,
        remaining_s=remaining,
        pose_visible=visible,
        offset_x_mm=_r(dev.offset_x_mm) if visible and dev else None,
        offset_y_mm=_r(dev.offset_y_mm) if visible and dev else None,
        depth_mm=_r(dev.depth_mm) if visible and dev else None,
        distance_mm=_r(dev.distance_mm) if visible and dev else None,
        angle_deg=_r(dev.angle_deg) if visible and dev else None,
        zone=zone,
        tol_distance_mm=cfg.tol_distance_mm,
        tol_angle_deg=cfg.tol_angle_deg,
        on_target_share=(
            rec.pulses_on_target / rec.pulses_with_pose
            if rec.pulses_with_pose and cfg.target is not None else None
        ),
        faults_active=tuple(rec.active_faults),
        alarms=tuple(rec.alarms.values()),
        frames_received=rec.frames_received,
        frames_rejected=rec.frames_rejected,
        frames_missing=rec.frames_missing,
        faults=rec.faults,
        pauses=rec.pauses,
        series_len=len(rec.series),
        extra=extra,
    )
