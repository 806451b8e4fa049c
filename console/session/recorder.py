"""SessionRecorder: the state machine and the record of one treatment session.

Pure logic: no threads, no Qt, no I/O. It consumes device events
(devices.events) and the technician's actions, keeps the session's state,
and produces what must be written (pulse, pose and event rows, the session
summary) and what the live view shows (LiveSnapshot, plot series). The
session runner moves events in and rows out; a test feeds events directly.

States: ready -> armed (start asked, waiting for the device) -> running <->
paused -> ended (completed | stopped with a reason | aborted with a reason).
``interrupted`` is never set here: recovery sets it on a session whose
recorder died.

Rules that matter to the record:
- every pulse the device reports is one row with the pose at that pulse; a
  count that repeats is never stored twice; a jump in the count is reported
  as pulses missing (lost frames, an outage);
- pulses delivered is the device's own count (highest PULSE count or the EOS
  count, whichever is larger), pulses recorded the rows we hold;
- pose between pulses is thinned: kept on a change over 0.5 mm / 0.5 deg
  from the last kept one, and at least once a second;
- alarms (off target > 1 s of device time, tracker lost, device fault,
  device lost, intensity off the prescription) are session events when
  raised and when cleared.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from console.clinic.protocols import ProtocolSpec
from console.geometry import Deviation, PoseValue, deviation
from console.session.live_view import build_snapshot
from console.session.pose_thinning import PoseThinner
from console.session.snapshot import Alarm, LiveSnapshot, SeriesPoint
from devices import events as ev

log = logging.getLogger(__name__)

T_WRAP = 1 << 32
SIDE_EFFECT_RATING = (0, 10)
REPEATS_RECORDED = 20
PAUSE_ECHO_S = 3.0
"""How long after a console pause a device PAUSED status is taken as that pause obeyed."""
"""Repeated pulse counts recorded as events (all are counted; a device that restarted its count
would otherwise fill the record)."""


@dataclass(frozen=True, kw_only=True)
class RecordingTerms:
    """What a session is recorded against: target, tolerances, pose thinning, prescription,
    protocol. The session plan carries them and the recorder's configuration extends them,
    so the two can never drift apart."""

    target: PoseValue | None = None
    tol_distance_mm: float = 3.0
    tol_angle_deg: float = 3.0
    pose_thin_mm: float = 0.5
    pose_thin_deg: float = 0.5
    pose_keep_hz: float = 1.0
    prescribed_mso: int | None = None
    mt_mso: float | None = None
    percent_mt: float | None = None
    protocol: ProtocolSpec | None = None

    def terms(self) -> dict[str, Any]:
        """Just the recording terms, e.g. to build a RecorderConfig from a plan."""
        return {f.name: getattr(self, f.name) for f in fields(RecordingTerms)}


@dataclass(frozen=True, kw_only=True)
class RecorderConfig(RecordingTerms):
    """The recording terms plus the session's id and the recorder's own timing rules."""

    session_id: int | None = None
    off_target_alarm_ms: int = 1000
    tracker_lost_alarm_ms: int = 500
    pose_max_age_ms: int = 1000
    stop_grace_s: float = 3.0
    trace_interval_ms: int = 200


class WallClock:
    """Turns the host's monotonic times into UTC wall-clock stamps.

    One pair (monotonic, wall) taken when the session opens: stamps then
    follow the monotonic clock, so a wall-clock jump (NTP, DST) cannot
    reorder a session's events. Tests pass a fixed pair.
    """

    def __init__(self, mono0: float, wall0: datetime) -> None:
        self.mono0 = mono0
        self.wall0 = wall0 if wall0.tzinfo else wall0.replace(tzinfo=UTC)

    @classmethod
    def now(cls, monotonic: Callable[[], float]) -> WallClock:
        return cls(monotonic(), datetime.now(UTC))

    def iso(self, host_t: float) -> str:
        return (self.wall0 + timedelta(seconds=host_t - self.mono0)).isoformat(timespec="milliseconds")


@dataclass
class PendingRows:
    """Rows produced since the last take, per table, in the order they happened."""

    pulses: list[dict[str, Any]] = field(default_factory=list)
    poses: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pulses) + len(self.poses) + len(self.events)


class SessionRecorder:
    """The state of one session, fed event by event. See the module docstring."""

    def __init__(self, config: RecorderConfig, clock: WallClock) -> None:
        self.config = config
        self.clock = clock
        self.state = "ready"
        self.end_status: str | None = None
        self.end_reason: str | None = None
        self.ended_host_t: float | None = None
        self._rows = PendingRows()
        self._n_rows = 0
        # device
        self.identity: ev.Hello | None = None
        self.device_connected = False
        self.device_state: str | None = None
        self.coil_temp_c: float | None = None
        self.protocol: ProtocolSpec | None = config.protocol
        self.mso: int | None = None
        # device time: unwrapped milliseconds
        self._t_last_raw: int | None = None
        self._t_offset = 0
        self._t0: int | None = None  # first device time seen (series origin)
        self.t_last: int | None = None
        self.run_start_t: int | None = None
        self.run_end_t: int | None = None
        # pulses
        self._counts: set[int] = set()
        self.max_count = 0
        self.eos_pulses = 0
        self.pulses_recorded = 0
        self.pulses_repeated = 0
        self.pulses_after_end = 0
        self.train = 0
        self.trains_delivered = 0
        self.pulses_with_pose = 0
        self.pulses_on_target = 0
        self._distance_sum = 0.0
        self.max_distance_mm: float | None = None
        # pose
        self.pose: PoseValue | None = None
        self.pose_t: int | None = None
        self.pose_quality = 0.0
        self.deviation: Deviation | None = None
        self._had_pose = False
        self._hidden_since: int | None = None
        self._off_since: int | None = None
        self._thinner = PoseThinner(config.pose_thin_mm, config.pose_thin_deg, config.pose_keep_hz)
        self._pose_idx = 0
        self._trace_t: int | None = None
        self._trace_visible: bool | None = None
        # counters and history
        self.frames_received = 0
        self.frames_rejected = 0
        self.frames_missing = 0
        self.faults = 0
        self.pauses = 0
        self._console_pause_echo_until = -1.0
        """Until this host time, a device PAUSED is the echo of the console's own pause
        (the device obeys the command a little later), not a second pause."""
        self.active_faults: dict[str, str | None] = {}
        self.alarms: dict[str, Alarm] = {}
        self.acknowledged: set[str] = set()
        self.series: list[SeriesPoint] = []
        self._stop: tuple[str, str, str | None, float] | None = None  # status, reason, by, deadline
        self._outage = False
        self._outage_since_pulse = False  # an outage began after the last pulse received
        self._protocol_recorded = False
        self._dispatch: dict[type, Callable[[Any], None]] = {
            ev.Pose: self._on_pose,
            ev.Pulse: self._on_pulse,
            ev.Status: self._on_status,
            ev.Train: self._on_train,
            ev.Intensity: self._on_intensity,
            ev.ProtocolLoaded: self._on_protocol,
            ev.Fault: self._on_fault,
            ev.Cleared: self._on_cleared,
            ev.EndOfSession: self._on_eos,
            ev.Hello: self._on_hello,
            ev.DeviceLost: self._on_lost,
            ev.DeviceRestored: self._on_restored,
        }

    # ------------------------------------------------------------------ outputs

    @property
    def ended(self) -> bool:
        return self.state == "ended"

    @property
    def stopping(self) -> bool:
        return self._stop is not None and not self.ended

    @property
    def pulses_delivered(self) -> int:
        return max(self.max_count, self.eos_pulses)

    @property
    def pending(self) -> int:
        """How many rows wait to be taken."""
        return self._n_rows

    def take_rows(self) -> PendingRows:
        """The rows produced since the last call; the caller writes them."""
        rows, self._rows, self._n_rows = self._rows, PendingRows(), 0
        return rows

    def summary(self) -> dict[str, Any]:
        """The session row's summary columns as they stand now."""
        has_target = self.config.target is not None
        mean = self._distance_sum / self.pulses_with_pose if self.pulses_with_pose else None
        out: dict[str, Any] = {
            "pulses_planned": self.protocol.planned_pulses if self.protocol else None,
            "pulses_delivered": self.pulses_delivered,
            "pulses_recorded": self.pulses_recorded,
            "trains_delivered": self.trains_delivered,
            "pulses_on_target": self.pulses_on_target if has_target else None,
            "max_distance_mm": _r(self.max_distance_mm),
            "mean_distance_mm": _r(mean),
            "frames_received": self.frames_received,
            "frames_rejected": self.frames_rejected,
            "frames_missing": self.frames_missing,
            "faults": self.faults,
            "pauses": self.pauses,
            "duration_s": self.duration_s,
            "protocol": self.protocol.name if self.protocol else None,
        }
        if self.identity is not None:
            out.update(
                device_vendor=self.identity.vendor, device_model=self.identity.model,
                device_serial=self.identity.serial, device_firmware=self.identity.firmware,
            )
        return out

    def final_changes(self) -> dict[str, Any]:
        """Everything the session row needs at its end, for one last update."""
        if not self.ended:
            raise RuntimeError("the session has not ended")
        out = self.summary()
        out.update(
            status=self.end_status,
            end_reason=self.end_reason,
            ended_at=self.clock.iso(self.ended_host_t if self.ended_host_t is not None else self.clock.mono0),
        )
        return out

    @property
    def duration_s(self) -> float | None:
        """Device seconds from the run's start to its end (or to now while running)."""
        if self.run_start_t is None:
            return None
        end = self.run_end_t if self.run_end_t is not None else self.t_last
        if end is None:
            return None
        return round(max(0, end - self.run_start_t) / 1000.0, 3)

    def snapshot(self) -> LiveSnapshot:
        """What the technician sees now; cheap enough to build 30 times a second."""
        return build_snapshot(self)

    # ------------------------------------------------------------ host actions

    def start(self, host_t: float, *, commanded: bool = True, by: str | None = None) -> bool:
        """The technician starts: wait (armed) for the device's first train or pulse.

        False (nothing changes) when the device is already running the
        session, started at its own panel before the console asked.
        """
        if self.state in ("running", "paused"):
            log.info("start asked while the device already runs the session: nothing to do")
            return False
        if self.state != "ready":
            raise InvalidAction(f"cannot start a session that is {self.state}")
        self.state = "armed"
        self._event(host_t, None, "armed", "console" if commanded else "device",
                    {"commanded": commanded}, by)
        self._check_intensity(host_t, None)
        return True

    def pause(self, host_t: float, reason: str | None = None, *, by: str | None = None) -> None:
        if self.state != "running":
            raise InvalidAction(f"cannot pause a session that is {self.state}")
        self._enter_pause(host_t, None, reason, by, source="console")
        if self.device_state == "RUNNING":
            self._console_pause_echo_until = host_t + PAUSE_ECHO_S

    def resume(self, host_t: float, *, by: str | None = None) -> None:
        if self.state != "paused":
            raise InvalidAction(f"cannot resume a session that is {self.state}")
        self._leave_pause(host_t, None, by, source="console")

    def stop(
        self, host_t: float, reason: str, *, by: str | None = None, wait_for_device: bool = True
    ) -> None:
        """End the session as stopped; with wait_for_device, the end waits for the
        device's EOS (pulses still in flight are recorded) or the grace time."""
        self._request_end(host_t, "stopped", reason, by, wait_for_device)

    def abort(
        self, host_t: float, reason: str, *, by: str | None = None, wait_for_device: bool = True
    ) -> None:
        """End the session as aborted (an emergency); otherwise as stop()."""
        self._request_end(host_t, "aborted", reason, by, wait_for_device)

    def close(self, host_t: float, reason: str) -> None:
        """The recording ends without an EOS (link closed, program exit): stopped, now."""
        if self.ended:
            return
        if self._stop is not None:
            status, stop_reason, by, _ = self._stop
            self._end(host_t, None, status, stop_reason, by)
        else:
            self._end(host_t, None, "stopped", reason, None)

    def tick(self, host_t: float) -> None:
        """Time passed without events: ends a stop whose grace for the device's EOS is over."""
        if self._stop is not None and not self.ended and host_t >= self._stop[3]:
            status, reason, by, _ = self._stop
            self._end(host_t, None, status, reason, by)

    def note(self, host_t: float, text: str, *, by: str | None = None) -> None:
        text = (text or "").strip()
        if not text:
            raise InvalidAction("a note needs some text")
        self._event(host_t, None, "note", None, {"text": text}, by)

    def side_effect(
        self, host_t: float, kind: str, rating: int, note: str | None = None, *, by: str | None = None
    ) -> None:
        """A side effect the patient reported, rated 0 (none) to 10 (worst)."""
        kind = (kind or "").strip()
        if not kind:
            raise InvalidAction("a side effect needs a kind (e.g. headache)")
        if isinstance(rating, bool) or not isinstance(rating, int):
            raise InvalidAction("a side-effect rating is a whole number from 0 to 10")
        lo, hi = SIDE_EFFECT_RATING
        if not lo <= rating <= hi:
            raise InvalidAction(f"a side-effect rating is from {lo} to {hi}, not {rating}")
        detail: dict[str, Any] = {"rating": rating}
        if note and note.strip():
            detail["note"] = note.strip()
        self._event(host_t, None, "side_effect", kind, detail, by)

    def acknowledge(self, host_t: float, kind: str, *, by: str | None = None) -> None:
        """The technician saw the alarm; it stays until its cause clears."""
        if kind not in self.alarms:
            raise InvalidAction(f"no {kind} alarm is active")
        if kind in self.acknowledged:
            return
        self.acknowledged.add(kind)
        self._event(host_t, None, "alarm_ack", kind, None, by)

    def note_command_failed(self, host_t: float, command: str, message: str) -> None:
        """A device command the console sent was refused or not answered."""
        self._event(host_t, None, "command_failed", command, {"message": message})

    def set_link_counters(self, received: int, rejected: int, missing: int) -> None:
        """The adapter's frame counters (cumulative for the session)."""
        self.frames_received = received
        self.frames_rejected = rejected
        self.frames_missing = missing

    def connected(self, host_t: float, identity: ev.Hello | None) -> None:
        """The adapter is open (before any event): who the device says it is."""
        self.device_connected = True
        if identity is not None:
            self.identity = identity

    # ---------------------------------------------------------------- events

    def feed(self, event: Any) -> None:
        """One device event, in the order the adapter produced them."""
        handler = self._dispatch.get(type(event))
        if handler is None:
            return  # link-level or unknown: nothing for the record
        device_t = event.device_t
        if device_t is not None:
            if device_t != self._t_last_raw:
                self._advance_time(device_t)
            if not self.device_connected and not isinstance(event, ev.DeviceLost):
                self.device_connected = True
        handler(event)

    def _advance_time(self, raw: int) -> None:
        last = self._t_last_raw
        if last is not None and raw < last and last - raw > T_WRAP // 2:
            self._t_offset += T_WRAP  # the 32-bit device clock wrapped
        self._t_last_raw = raw
        t = raw + self._t_offset
        if self._t0 is None:
            self._t0 = t
        if self.t_last is None or t > self.t_last:
            self.t_last = t

    def _on_pose(self, e: ev.Pose) -> None:
        t = self.t_last
        if e.x is None:
            pose = None
            dev = None
        else:
            pose = PoseValue(e.x, e.y, e.z, e.qw, e.qx, e.qy, e.qz)
            target = self.config.target
            dev = deviation(pose, target) if target is not None else None
            self._had_pose = True
        self.pose = pose
        self.pose_t = t
        self.pose_quality = e.quality
        self.deviation = dev
        self._keep_pose(e, pose, dev, t)
        self._trace(pose, dev, t)
        if self.state in ("armed", "running"):
            self._check_pose_alarms(e.host_t, e.device_t)

    def _keep_pose(self, e: ev.Pose, pose: PoseValue | None, dev: Deviation | None, t: int | None) -> None:
        if not self._thinner.keep(pose, t):
            return
        row: dict[str, Any] = {
            "session_id": self.config.session_id, "idx": self._pose_idx, "device_t_ms": e.device_t,
            "x": e.x, "y": e.y, "z": e.z, "qw": e.qw, "qx": e.qx, "qy": e.qy, "qz": e.qz,
            "quality": e.quality,
            "distance_mm": _r(dev.distance_mm) if dev else None,
            "angle_deg": _r(dev.angle_deg) if dev else None,
        }
        self._pose_idx += 1
        self._rows.poses.append(row)
        self._n_rows += 1

    def _trace(self, pose: PoseValue | None, dev: Deviation | None, t: int | None) -> None:
        if self.config.target is None or t is None:
            return
        visible = pose is not None
        if (
            self._trace_t is not None
            and visible == self._trace_visible
            and t - self._trace_t < self.config.trace_interval_ms
        ):
            return
        self._trace_t, self._trace_visible = t, visible
        distance = _r(dev.distance_mm) if dev is not None else None
        self.series.append(SeriesPoint(self._series_s(t), distance, None, False))

    def _series_s(self, t: int | None) -> float:
        if t is None or self._t0 is None:
            return 0.0
        return (t - self._t0) / 1000.0

    def _on_pulse(self, e: ev.Pulse) -> None:
        count = e.count
        if count in self._counts:
            # never stored twice; said in the record (the first few), never silently dropped
            self.pulses_repeated += 1
            log.warning("pulse %d reported again: kept once", count)
            if self.pulses_repeated <= REPEATS_RECORDED:
                self._event(e.host_t, e.device_t, "pulse_repeated", None,
                            {"count": count, "repeats_so_far": self.pulses_repeated})
            return
        if self.ended:
            self.pulses_after_end += 1
            log.warning("pulse %d arrived after the session ended: not part of this record", count)
            return
        if self.state in ("ready", "armed"):
            self._begin_run(e.host_t, e.device_t, "pulse")
        expected = self.max_count + 1
        if count > expected:
            self._missing(e.host_t, e.device_t, expected, count - 1)
        self._counts.add(count)
        self._outage_since_pulse = self._outage
        if count > self.max_count:
            self.max_count = count
        t = self.t_last
        pose = self.pose
        stale = self.pose_t is None or t is None or t - self.pose_t > self.config.pose_max_age_ms
        if pose is not None and stale:
            pose = None  # the last pose is too old to say where the coil was
        dev = self.deviation if pose is not None else None
        on_target = None
        distance = angle = None
        cfg = self.config
        if dev is not None and dev.angle_deg is not None:
            distance, angle = dev.distance_mm, dev.angle_deg
            on = distance <= cfg.tol_distance_mm and angle <= cfg.tol_angle_deg
            on_target = int(on)
            self.pulses_with_pose += 1
            self.pulses_on_target += on
            self._distance_sum += distance
            if self.max_distance_mm is None or distance > self.max_distance_mm:
                self.max_distance_mm = distance
        row = {
            "session_id": cfg.session_id, "count": count, "device_t_ms": e.device_t,
            "mso": e.mso, "didt": e.didt, "train": self.train or None,
            "x": pose.x if pose else None, "y": pose.y if pose else None,
            "z": pose.z if pose else None, "qw": pose.qw if pose else None,
            "qx": pose.qx if pose else None, "qy": pose.qy if pose else None,
            "qz": pose.qz if pose else None,
            "distance_mm": _r(distance), "angle_deg": _r(angle), "on_target": on_target,
        }
        self._rows.pulses.append(row)
        self._n_rows += 1
        self.pulses_recorded += 1
        self.series.append(SeriesPoint(self._series_s(t), _r(distance), e.mso, True))
        if self._had_pose and self.state == "running":
            self._check_pose_alarms(e.host_t, e.device_t)
        if cfg.prescribed_mso is not None:
            self._check_intensity(e.host_t, e.device_t, e.mso)

    def _missing(self, host_t: float, device_t: int | None, first: int, last: int) -> None:
        detail = {"first": first, "last": last, "pulses": last - first + 1}
        if self._outage_since_pulse:
            detail["during_outage"] = True
        log.warning("pulses %d..%d were not received", first, last)
        self._event(host_t, device_t, "pulses_missing", None, detail)

    def _on_train(self, e: ev.Train) -> None:
        if e.phase == "START":
            if self.state in ("ready", "armed"):
                self._begin_run(e.host_t, e.device_t, "train")
            self.train = e.train
            self.trains_delivered = max(self.trains_delivered, e.train - 1)
        else:
            self.trains_delivered = max(self.trains_delivered, e.train)

    def _on_status(self, e: ev.Status) -> None:
        previous = self.device_state
        self.device_state = e.state
        self.coil_temp_c = e.coil_temp_c
        if self.mso != e.mso:
            self._set_mso(e.mso, e.host_t, e.device_t)
        if previous == e.state:
            pass
        elif e.state == "RUNNING" and self.state == "armed":
            self._begin_run(e.host_t, e.device_t, "status")
        elif e.state == "PAUSED" and e.host_t <= self._console_pause_echo_until:
            # the device obeying the console's PAUSE after the console already resumed
            self._console_pause_echo_until = -1.0
        elif e.state in ("PAUSED", "FAULT") and previous == "RUNNING" and self.state == "running":
            # a fault halts the run as a pause does: the delivery stopped, and why
            reason = f"device fault {', '.join(self.active_faults)}".strip() if e.state == "FAULT" else None
            self._enter_pause(e.host_t, e.device_t, reason, None, source="device")
        elif e.state == "RUNNING" and previous in ("PAUSED", "FAULT") and self.state == "paused":
            self._leave_pause(e.host_t, e.device_t, None, source="device")
        if self._had_pose and self.state == "running":
            self._check_pose_alarms(e.host_t, e.device_t)

    def _on_intensity(self, e: ev.Intensity) -> None:
        if e.mso != self.mso:
            self._set_mso(e.mso, e.host_t, e.device_t)

    def _set_mso(self, mso: int, host_t: float, device_t: int | None) -> None:
        """The device's intensity setting changed (INT, or a STAT that shows it)."""
        self.mso = mso
        cfg = self.config
        detail: dict[str, Any] = {"mso": mso, "prescribed_mso": cfg.prescribed_mso}
        if cfg.mt_mso:
            detail["percent_mt"] = round(100.0 * mso / cfg.mt_mso, 1)
        self._event(host_t, device_t, "intensity", None, detail)
        self._check_intensity(host_t, device_t)

    def _on_protocol(self, e: ev.ProtocolLoaded) -> None:
        spec = ProtocolSpec(e.name, e.freq_hz, e.pulses_per_train, e.trains, e.iti_s, e.burst)
        if spec == self.protocol and self._protocol_recorded:
            return
        self.protocol = spec
        self._protocol_recorded = True
        self._event(e.host_t, e.device_t, "protocol", None, spec.as_dict())

    def _on_fault(self, e: ev.Fault) -> None:
        if e.code in self.active_faults:
            return  # the same fault repeated: one fault
        self.active_faults[e.code] = e.text
        self.faults += 1
        self._event(e.host_t, e.device_t, "fault", e.code, {"text": e.text} if e.text else None)
        text = f" ({e.text})" if e.text else ""
        message = f"Device fault {', '.join(self.active_faults)}{text}"
        self._raise("device_fault", message, e.host_t, e.device_t)

    def _on_cleared(self, e: ev.Cleared) -> None:
        if e.code not in self.active_faults:
            return
        del self.active_faults[e.code]
        self._event(e.host_t, e.device_t, "clear", e.code, None)
        if self.active_faults:
            alarm = self.alarms.get("device_fault")
            if alarm is not None:
                self.alarms["device_fault"] = alarm._replace(
                    message=f"Device fault {', '.join(self.active_faults)}"
                )
        else:
            self._clear("device_fault", e.host_t, e.device_t)

    def _on_eos(self, e: ev.EndOfSession) -> None:
        if self.ended:
            return
        if self.state == "ready" and self._stop is None:
            log.info("end of a run the console did not start (%s): ignored", e.reason)
            return
        if e.pulses > self.max_count:
            self._missing(e.host_t, e.device_t, self.max_count + 1, e.pulses)
        self.eos_pulses = max(self.eos_pulses, e.pulses)
        if e.reason == "COMPLETE":
            self._end(e.host_t, e.device_t, "completed", None, None)
        elif self._stop is not None:
            status, reason, by, _ = self._stop
            self._end(e.host_t, e.device_t, status, reason, by)
        else:
            self._end(e.host_t, e.device_t, "stopped", "stopped at the device", None)

    def _on_hello(self, e: ev.Hello) -> None:
        before = self.identity
        self.identity = e
        if before is not None and (before.serial, before.model) != (e.serial, e.model):
            self._event(e.host_t, None, "device_changed", None, {
                "before": f"{before.vendor} {before.model} {before.serial}",
                "now": f"{e.vendor} {e.model} {e.serial}",
            })

    def _on_lost(self, e: ev.DeviceLost) -> None:
        if self._outage:
            return
        self._outage = True
        self._outage_since_pulse = True
        self.device_connected = False
        self.pose = None
        self.deviation = None
        self._event(e.host_t, e.device_t, "device_lost", None, {"reason": e.reason})
        self._raise("device_lost", f"Device lost: {e.reason}", e.host_t, e.device_t)
        self._clear("off_target", e.host_t, e.device_t)
        self._clear("tracker_lost", e.host_t, e.device_t)
        self._off_since = self._hidden_since = None

    def _on_restored(self, e: ev.DeviceRestored) -> None:
        self.device_connected = True
        if not self._outage:
            return
        self._outage = False
        self._event(e.host_t, e.device_t, "device_restored", None, None)
        self._clear("device_lost", e.host_t, e.device_t)

    # ---------------------------------------------------------------- alarms

    def _check_pose_alarms(self, host_t: float, device_t: int | None) -> None:
        t = self.t_last
        cfg = self.config
        if t is None:
            return
        # tracker: the coil is hidden, or pose frames stopped while the device talks
        hidden = self.pose is None or (self.pose_t is not None and t - self.pose_t > cfg.pose_max_age_ms)
        if hidden and self._had_pose:
            if self._hidden_since is None:
                self._hidden_since = self.pose_t if self.pose is not None and self.pose_t else t
            if t - self._hidden_since >= cfg.tracker_lost_alarm_ms and "tracker_lost" not in self.alarms:
                self._raise("tracker_lost", "Tracker cannot see the coil", host_t, device_t)
        else:
            self._hidden_since = None
            self._clear("tracker_lost", host_t, device_t)
        # off target: outside the tolerance for more than a second of device time
        dev = self.deviation
        if hidden or dev is None or dev.angle_deg is None:
            self._off_since = None
            self._clear("off_target", host_t, device_t)
            return
        off = dev.distance_mm > cfg.tol_distance_mm or dev.angle_deg > cfg.tol_angle_deg
        if not off:
            self._off_since = None
            self._clear("off_target", host_t, device_t)
            return
        if self._off_since is None:
            self._off_since = t
        if t - self._off_since > cfg.off_target_alarm_ms and "off_target" not in self.alarms:
            self._raise(
                "off_target",
                f"Coil off target: {dev.distance_mm:.1f} mm, {dev.angle_deg:.1f}°",
                host_t, device_t,
            )

    def _check_intensity(self, host_t: float, device_t: int | None, mso: int | None = None) -> None:
        """Alarm while the intensity (setting, or a pulse's) differs from the prescription."""
        prescribed = self.config.prescribed_mso
        mso = self.mso if mso is None else mso
        if prescribed is None or mso is None:
            return
        if self.state in ("running", "paused") and mso != prescribed:
            if "intensity" not in self.alarms:
                self._raise(
                    "intensity", f"Intensity {mso} % MSO, prescribed {prescribed} % MSO", host_t, device_t
                )
        else:
            self._clear("intensity", host_t, device_t)

    def _raise(self, kind: str, message: str, host_t: float, device_t: int | None) -> None:
        if kind in self.alarms:
            self.alarms[kind] = self.alarms[kind]._replace(message=message)
            return
        self.alarms[kind] = Alarm(kind, message, host_t)
        self.acknowledged.discard(kind)
        self._event(host_t, device_t, "alarm", kind, {"raised": True, "message": message})

    def _clear(self, kind: str, host_t: float, device_t: int | None) -> None:
        if kind not in self.alarms:
            return
        alarm = self.alarms.pop(kind)
        self.acknowledged.discard(kind)
        self._event(host_t, device_t, "alarm", kind, {
            "raised": False, "message": alarm.message,
            "lasted_s": round(max(0.0, host_t - alarm.since_host_t), 3),
        })

    # ----------------------------------------------------------- transitions

    def _begin_run(self, host_t: float, device_t: int | None, cause: str) -> None:
        by_device = self.state == "ready"
        self.state = "running"
        self.run_start_t = self.t_last
        self._event(host_t, device_t, "run_started", cause,
                    {"started_at": "device" if by_device else "console"})
        self._check_intensity(host_t, device_t)

    def _enter_pause(
        self, host_t: float, device_t: int | None, reason: str | None, by: str | None, source: str
    ) -> None:
        self.state = "paused"
        self.pauses += 1
        detail: dict[str, Any] = {"source": source}
        if reason:
            detail["reason"] = reason
        self._event(host_t, device_t, "pause", None, detail, by)
        self._off_since = self._hidden_since = None
        self._clear("off_target", host_t, device_t)
        self._clear("tracker_lost", host_t, device_t)

    def _leave_pause(self, host_t: float, device_t: int | None, by: str | None, source: str) -> None:
        self.state = "running"
        self._event(host_t, device_t, "resume", None, {"source": source}, by)

    def _request_end(self, host_t: float, status: str, reason: str, by: str | None, wait: bool) -> None:
        if self.ended:
            raise InvalidAction(f"the session has already ended ({self.end_status})")
        reason = (reason or "").strip()
        if not reason:
            raise InvalidAction(f"a session {status} needs a reason")
        if self._stop is not None and self._stop[0] == "aborted" and status == "stopped":
            return  # an abort is not softened into a stop
        self._event(host_t, None, "end_requested", status, {"reason": reason}, by)
        self._stop = (status, reason, by, host_t + self.config.stop_grace_s)
        if not wait or self.state in ("ready", "armed"):
            self._end(host_t, None, status, reason, by)

    def _end(
        self, host_t: float, device_t: int | None, status: str, reason: str | None, by: str | None
    ) -> None:
        self.state = "ended"
        self.end_status = status
        self.end_reason = reason
        self.ended_host_t = host_t
        self.run_end_t = self.t_last
        for kind in list(self.alarms):
            self._clear(kind, host_t, device_t)
        detail: dict[str, Any] = {
            "pulses_delivered": self.pulses_delivered,
            "pulses_recorded": self.pulses_recorded,
        }
        if reason:
            detail["reason"] = reason
        self._event(host_t, device_t, "end", status, detail, by)

    def _event(
        self, host_t: float, device_t: int | None, kind: str, code: str | None,
        detail: dict[str, Any] | None, by: str | None = None,
    ) -> None:
        self._rows.events.append({
            "session_id": self.config.session_id,
            "at": self.clock.iso(host_t),
            "device_t_ms": device_t,
            "kind": kind,
            "code": code,
            "detail": None if detail is None else json.dumps(detail, sort_keys=True),
            "by_user": by,
        })
        self._n_rows += 1


class InvalidAction(ValueError):
    """A technician's action that does not fit the session's state or is incomplete."""


def _r(v: float | None, digits: int = 3) -> float | None:
    return None if v is None else round(v, digits)
