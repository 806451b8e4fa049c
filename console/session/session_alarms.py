"""The alarms of one session: when they are raised, cleared and acknowledged.

A separate job from the recording state machine: the recorder tells this
book what it sees (the pose, the intensity, faults, the link) and the book
decides which alarm is active, writing each raise, clear and acknowledgement
as a session event through the recorder's event sink.

Rules: off target for more than ``off_target_alarm_ms`` of device time,
tracker unable to see the coil for ``tracker_lost_alarm_ms``, intensity off
the prescription while the run is on; device faults and outages are raised
and cleared by the recorder as the device reports them.
"""

from __future__ import annotations

from console.geometry import Deviation
from console.session.recording_terms import EventSink, InvalidAction, RecorderConfig
from console.session.snapshot import Alarm


def on_target(distance_mm: float, angle_deg: float, tol_mm: float, tol_deg: float) -> bool:
    """The one rule for where the coil is: on target within both tolerances, off target
    otherwise. The alarm, the coil panel's word and colour, each pulse's ``on_target`` and both
    plots (live and review) all follow it, so they never disagree."""
    return distance_mm <= tol_mm and angle_deg <= tol_deg


def pose_zone(distance_mm: float, angle_deg: float, tol_mm: float, tol_deg: float) -> str:
    """``on`` or ``off`` (:func:`on_target`); the live view adds ``none`` (no pose) and
    ``no_device``."""
    return "on" if on_target(distance_mm, angle_deg, tol_mm, tol_deg) else "off"


class SessionAlarms:
    """Active alarms (kind -> Alarm) and which of them the technician acknowledged."""

    def __init__(self, config: RecorderConfig, event: EventSink) -> None:
        self.config = config
        self._event = event
        self.active: dict[str, Alarm] = {}
        self.acknowledged: set[str] = set()
        self._hidden_since: int | None = None  # device ms the coil was last seen
        self._off_since: int | None = None  # device ms the coil left the tolerance

    def acknowledged_active(self) -> tuple[str, ...]:
        """The active alarms the technician has acknowledged, sorted."""
        return tuple(sorted(self.acknowledged & set(self.active)))

    def raise_(self, kind: str, message: str, host_t: float, device_t: int | None) -> None:
        """Raise ``kind`` (an event), or only reword it when it is already active."""
        if kind in self.active:
            self.active[kind] = self.active[kind]._replace(message=message)
            return
        self.active[kind] = Alarm(kind, message, host_t)
        self.acknowledged.discard(kind)
        self._event(host_t, device_t, "alarm", kind, {"raised": True, "message": message}, None)

    def reword(self, kind: str, message: str) -> None:
        """A still-active alarm's words changed (e.g. one of two faults cleared): no event."""
        alarm = self.active.get(kind)
        if alarm is not None:
            self.active[kind] = alarm._replace(message=message)

    def clear(self, kind: str, host_t: float, device_t: int | None) -> None:
        if kind not in self.active:
            return
        alarm = self.active.pop(kind)
        self.acknowledged.discard(kind)
        self._event(host_t, device_t, "alarm", kind, {
            "raised": False, "message": alarm.message,
            "lasted_s": round(max(0.0, host_t - alarm.since_host_t), 3),
        }, None)

    def clear_all(self, host_t: float, device_t: int | None) -> None:
        for kind in list(self.active):
            self.clear(kind, host_t, device_t)

    def acknowledge(self, host_t: float, kind: str, by: str | None) -> None:
        """The technician saw the alarm; it stays until its cause clears."""
        if kind not in self.active:
            raise InvalidAction(f"no {kind} alarm is active")
        if kind in self.acknowledged:
            return
        self.acknowledged.add(kind)
        self._event(host_t, None, "alarm_ack", kind, None, by)

    def forget_pose(self, host_t: float, device_t: int | None) -> None:
        """The pose no longer counts (a pause, an outage): its alarms clear and their timers restart."""
        self._off_since = self._hidden_since = None
        self.clear("off_target", host_t, device_t)
        self.clear("tracker_lost", host_t, device_t)

    def check_pose(
        self, host_t: float, device_t: int | None, t: int | None, *,
        visible: bool, pose_t: int | None, deviation: Deviation | None, had_pose: bool,
    ) -> None:
        """Tracker lost and off target, on device time ``t`` (the pose last seen at ``pose_t``;
        ``had_pose``: the tracker has seen the coil this session, so hiding it now is a loss)."""
        cfg = self.config
        if t is None:
            return
        # tracker: the coil is hidden, or pose frames stopped while the device talks
        hidden = not visible or (pose_t is not None and t - pose_t > cfg.pose_max_age_ms)
        if hidden and had_pose:
            if self._hidden_since is None:
                self._hidden_since = pose_t if visible and pose_t else t
            if t - self._hidden_since >= cfg.tracker_lost_alarm_ms and "tracker_lost" not in self.active:
                self.raise_("tracker_lost", "Tracker cannot see the coil", host_t, device_t)
        else:
            self._hidden_since = None
            self.clear("tracker_lost", host_t, device_t)
        # off target: outside the tolerance for more than a second of device time
        dev = deviation
        if hidden or dev is None or dev.angle_deg is None:
            self._off_since = None
            self.clear("off_target", host_t, device_t)
            return
        off = not on_target(dev.distance_mm, dev.angle_deg, cfg.tol_distance_mm, cfg.tol_angle_deg)
        if not off:
            self._off_since = None
            self.clear("off_target", host_t, device_t)
            return
        if self._off_since is None:
            self._off_since = t
        if t - self._off_since > cfg.off_target_alarm_ms and "off_target" not in self.active:
            self.raise_(
                "off_target",
                f"Coil off target: {dev.distance_mm:.1f} mm, {dev.angle_deg:.1f}°",
                host_t, device_t,
            )

    def check_intensity(
        self, host_t: float, device_t: int | None, *, delivering: bool, mso: int | None
    ) -> None:
        """Alarm while the intensity (setting, or a pulse's) differs from the prescription during the run."""
        prescribed = self.config.prescribed_mso
        if prescribed is None or mso is None:
            return
        if delivering and mso != prescribed:
            if "intensity" not in self.active:
                self.raise_(
                    "intensity", f"Intensity {mso} % MSO, prescribed {prescribed} % MSO", host_t, device_t
                )
        else:
            self.clear("intensity", host_t, device_t)
