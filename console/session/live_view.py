"""The live view's snapshot of a session, built from the recorder's state.

Kept apart from the recorder (which decides what is recorded) because it
only reads: what the technician sees at one instant, zones and shares
worked out from the recorder's numbers. It reads the recorder through
``RecorderView``, the few things it needs, so it never imports the recorder
(the recorder imports this module); the runner calls it under its lock.
"""

from __future__ import annotations

from typing import Protocol

from console.clinic.protocols import ProtocolSpec
from console.session.device_health import DeviceHealth
from console.session.plot_series import PlotSeries
from console.session.pose_track import PoseTrack
from console.session.pulse_tally import PulseTally
from console.session.recording_terms import RecorderConfig, rounded
from console.session.session_alarms import SessionAlarms, pose_zone
from console.session.snapshot import LiveSnapshot


class RecorderView(Protocol):
    """What the live view reads of a recorder (SessionRecorder is one)."""

    config: RecorderConfig
    track: PoseTrack
    pulses: PulseTally
    device: DeviceHealth
    alarm_book: SessionAlarms
    state: str
    end_status: str | None
    end_reason: str | None
    device_state: str | None
    coil_temp_c: float | None
    protocol: ProtocolSpec | None
    mso: int | None
    train: int
    pause_reason: str | None
    frames_received: int
    frames_rejected: int
    frames_missing: int
    pauses: int
    series: PlotSeries

    @property
    def ended(self) -> bool: ...

    @property
    def stopping(self) -> bool: ...

    @property
    def protocol_confirmed(self) -> bool: ...

    @property
    def stopping_at_panel(self) -> bool: ...

    @property
    def duration_s(self) -> float | None: ...


def zone_of(distance_mm: float, angle_deg: float, tol_mm: float, tol_deg: float) -> str:
    """on (within tolerance) or off: the alarm's own rule (session_alarms.pose_zone), so the
    coil panel never says "slightly off" while the band says off target."""
    return pose_zone(distance_mm, angle_deg, tol_mm, tol_deg)


def build_snapshot(rec: RecorderView) -> LiveSnapshot:
    """What the technician sees now."""
    cfg = rec.config
    dev = rec.track.deviation
    visible = rec.track.pose is not None
    shown = dev if visible else None
    zone = "none"
    if shown is not None and shown.angle_deg is not None:
        zone = zone_of(shown.distance_mm, shown.angle_deg, cfg.tol_distance_mm, cfg.tol_angle_deg)
    delivered = rec.pulses.delivered
    percent_mt = None
    if rec.mso is not None and cfg.mt_mso:
        percent_mt = round(100.0 * rec.mso / cfg.mt_mso, 1)
    remaining = None
    if rec.protocol is not None and not rec.ended:
        remaining = round(rec.protocol.remaining_s(delivered), 1)
    return LiveSnapshot(
        session_id=cfg.session_id,
        state=rec.state,
        end_status=rec.end_status,
        end_reason=rec.end_reason,
        device_connected=rec.device.connected,
        device_state=rec.device_state,
        device_label=rec.device.label,
        device_model=rec.device.identity.model if rec.device.identity else None,
        coil_type=rec.device.coil_type,
        protocol_name=rec.protocol.name if rec.protocol else None,
        pulses_delivered=delivered,
        pulses_observed=rec.config.pulses_observed,
        pulses_recorded=rec.pulses.recorded,
        pulses_planned=rec.protocol.planned_pulses if rec.protocol else None,
        train=rec.train,
        trains_planned=rec.protocol.trains if rec.protocol else None,
        mso=rec.mso,
        prescribed_mso=cfg.prescribed_mso,
        mt_mso=cfg.mt_mso,
        percent_mt=percent_mt,
        elapsed_s=rec.duration_s or 0.0,
        remaining_s=remaining,
        pose_visible=visible,
        offset_x_mm=rounded(shown.offset_x_mm) if shown else None,
        offset_y_mm=rounded(shown.offset_y_mm) if shown else None,
        depth_mm=rounded(shown.depth_mm) if shown else None,
        distance_mm=rounded(shown.distance_mm) if shown else None,
        angle_deg=rounded(shown.angle_deg) if shown else None,
        zone=zone,
        tol_distance_mm=cfg.tol_distance_mm,
        tol_angle_deg=cfg.tol_angle_deg,
        on_target_share=rec.pulses.on_target_share(),
        faults_active=tuple(rec.device.active_faults),
        alarms=tuple(rec.alarm_book.active.values()),
        frames_received=rec.frames_received,
        frames_rejected=rec.frames_rejected,
        frames_missing=rec.frames_missing,
        faults=rec.device.faults,
        pauses=rec.pauses,
        series_len=len(rec.series),
        stopping=rec.stopping,
        pause_reason=rec.pause_reason if rec.state == "paused" else None,
        alarms_acknowledged=rec.alarm_book.acknowledged_active(),
        pulses_repeated=rec.pulses.repeated,
        coil_temp_c=rec.coil_temp_c,
        pose_quality=rec.track.quality,
        pose_host_t=rec.track.pose_host_t,
        target_tracked=cfg.target is not None,
        protocol_confirmed=rec.protocol_confirmed,
        stopping_at_panel=rec.stopping_at_panel,
        course_protocol=cfg.protocol.name if cfg.protocol else None,
    )
