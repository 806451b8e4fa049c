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

Its helpers each keep one part of the record: PulseTally (counts, missing
and repeated pulses, placement), PoseTrack (the coil's pose, thinned rows,
the distance trace), SessionAlarms (when alarms are raised and cleared),
DeviceHealth (identity, faults, outages) and live_entries (notes, side
effects, device commands). The live view's snapshot is built by live_view.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from console.clinic.protocols import ProtocolSpec
from console.session.device_health import DeviceHealth, DeviceTime
from console.session.live_entries import command_detail, note_detail, side_effect_detail
from console.session.live_view import build_snapshot
from console.session.plot_series import PlotSeries
from console.session.pose_track import PoseTrack
from console.session.pulse_tally import PulseTally
from console.session.recording_terms import InvalidAction, PendingRows, RecorderConfig, WallClock
from console.session.session_alarms import SessionAlarms
from console.session.snapshot import Alarm, LiveSnapshot, SeriesPoint
from devices import events as ev

log = logging.getLogger(__name__)

REPEATS_RECORDED = 20
"""Repeated pulse counts recorded as events (all are counted; a flood of repeats would otherwise
fill the record)."""
PAUSE_ECHO_S = 3.0
"""How long after a console pause a device PAUSED status is taken as that pause obeyed."""
DEVICE_PAUSE_WORDS = "Paused at the device"
REASON_NOT_GIVEN = "not given"
PANEL_STOP_MAX_S = 120.0
"""After Stop on a device the console cannot stop, how long at most the record stays open
waiting for its pulses to cease (the technician stops it at its own panel)."""


def reason_detail(reason: str | None, pressed_at: str | None) -> dict[str, Any]:
    """A reason asked after a Pause or Stop already acted: the words as given (``not given``
    when left blank, never a made-up one) and when the key was pressed, which links it."""
    reason = (reason or "").strip()
    detail: dict[str, Any] = {"reason": reason or REASON_NOT_GIVEN, "given": bool(reason)}
    if pressed_at:
        detail["pressed_at"] = pressed_at
    return detail


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
        self.device_state: str | None = None
        self.coil_temp_c: float | None = None
        self.protocol: ProtocolSpec | None = config.protocol
        self.mso: int | None = None
        self.time = DeviceTime()
        self.run_start_t: int | None = None
        self.run_end_t: int | None = None
        self.pulses = PulseTally(config)
        self.train = 0
        self.trains_delivered = 0
        self.track = PoseTrack(config)
        # counters and history
        self.frames_received = 0
        self.frames_rejected = 0
        self.frames_missing = 0
        self.pauses = 0
        self._console_pause_echo_until = -1.0
        """Until this host time, a device PAUSED is the echo of the console's own pause
        (the device obeys the command a little later), not a second pause."""
        self.pause_reason: str | None = None  # the console's reason, a fault, or DEVICE_PAUSE_WORDS
        self.alarm_book = SessionAlarms(config, self._event)
        self.device = DeviceHealth(self._event, self.alarm_book)
        self.series = PlotSeries()  # bounded: recent points exact, older ones thinned
        self._stop: tuple[str, str | None, str | None, float] | None = None  # status, reason, by, deadline
        self.pressed_at: dict[str, str] = {}
        self._panel: dict[str, Any] | None = None  # a stop done at the device's own panel, watched
        """When the technician last pressed Pause or Stop (``pause``/``stopped``): a reason asked
        afterwards is linked to that press (:meth:`reason_given`)."""
        self._protocol_recorded = False
        self._dispatch: dict[type, Callable[[Any], None]] = {
            ev.Pose: self._on_pose,
            ev.Pulse: self._on_pulse,
            ev.Status: self._on_status,
            ev.Train: self._on_train,
            ev.Intensity: self._on_intensity,
            ev.ProtocolLoaded: self._on_protocol,
            ev.Fault: self.device.on_fault,
            ev.Cleared: self.device.on_cleared,
            ev.EndOfSession: self._on_eos,
            ev.Hello: self.device.on_hello,
            ev.DeviceLost: self._on_lost,
            ev.DeviceRestored: self.device.on_restored,
        }

    # ------------------------------------------------------------------ outputs

    @property
    def ended(self) -> bool:
        return self.state == "ended"

    @property
    def alarms(self) -> dict[str, Alarm]:
        """The active alarms by kind."""
        return self.alarm_book.active

    @property
    def protocol_confirmed(self) -> bool:
        """The device itself has reported the protocol the course prescribes (its LOAD answer or
        its own report): until then Start waits, whatever the console meant to load."""
        wanted = self.config.protocol
        return wanted is None or (self._protocol_recorded and self.protocol == wanted)

    @property
    def stopping(self) -> bool:
        return self._stop is not None and not self.ended

    @property
    def stopping_at_panel(self) -> bool:
        """Stop was pressed but the device takes no STOP: it is being stopped at its own panel."""
        return self._panel is not None and self.stopping

    def watch_panel_stop(self, host_t: float) -> None:
        """The device takes no STOP: the technician stops it at its own panel. The record stays
        open while its pulses still come, so none is lost, and ends when the device ends the run,
        once no pulse has come for the protocol's pause between trains plus the grace time, or
        after :data:`PANEL_STOP_MAX_S`; its end notes when the pulses ceased."""
        if self._stop is None or self.ended or self._panel is not None:
            return
        quiet = self.config.stop_grace_s + (self.protocol.iti_s if self.protocol else 0.0)
        self._panel = {"pressed": host_t, "last": None, "after": 0, "quiet": quiet,
                       "cap": host_t + PANEL_STOP_MAX_S}
        status, reason, by, _ = self._stop
        self._stop = (status, reason, by, host_t + quiet)

    def _panel_pulse(self, host_t: float) -> None:
        """A pulse after Stop on a device stopped at its panel: recorded, and the end waits on."""
        panel, stop = self._panel, self._stop
        if panel is None or stop is None:
            return
        panel["last"] = host_t
        panel["after"] += 1
        status, reason, by, _ = stop
        self._stop = (status, reason, by, min(panel["cap"], host_t + panel["quiet"]))

    def _panel_detail(self, host_t: float) -> dict[str, Any]:
        """What the end says of a stop at the device's panel: when its pulses ceased."""
        panel = self._panel
        if panel is None:
            return {}
        last = panel["last"]
        detail: dict[str, Any] = {"stopped_at_panel": True, "pulses_after_stop": panel["after"],
                                  "pulses_ceased_at": self.clock.iso(last if last is not None
                                                                     else panel["pressed"])}
        if last is not None and host_t - last < panel["quiet"]:
            detail["pulses_still_arriving"] = True  # ended by the time limit, not by quiet
        return detail

    @property
    def pulses_delivered(self) -> int:
        return self.pulses.delivered

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
        out: dict[str, Any] = {
            "pulses_planned": self.protocol.planned_pulses if self.protocol else None,
            **self.pulses.summary(),
            "trains_delivered": self.trains_delivered,
            "frames_received": self.frames_received,
            "frames_rejected": self.frames_rejected,
            "frames_missing": self.frames_missing,
            "faults": self.device.faults,
            "pauses": self.pauses,
            "duration_s": self.duration_s,
            "protocol": self.protocol.name if self.protocol else None,
        }
        out.update(self.device.identity_columns())
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
        end = self.run_end_t if self.run_end_t is not None else self.time.t_last
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
        self.pressed_at["pause"] = self.clock.iso(host_t)
        if self.device_state == "RUNNING":
            self._console_pause_echo_until = host_t + PAUSE_ECHO_S

    def resume(self, host_t: float, *, by: str | None = None) -> None:
        if self.state != "paused":
            raise InvalidAction(f"cannot resume a session that is {self.state}")
        self._leave_pause(host_t, None, by, source="console")

    def stop(
        self, host_t: float, reason: str | None, *, by: str | None = None, wait_for_device: bool = True
    ) -> None:
        """End the session as stopped; with wait_for_device, the end waits for the
        device's EOS (pulses still in flight are recorded) or the grace time.

        ``reason`` None: the technician is asked why after the stop (the device is told
        first); the answer is a later event (:meth:`reason_given`), never invented here."""
        self._request_end(host_t, "stopped", reason, by, wait_for_device)

    def reason_given(self, host_t: float, what: str, reason: str | None, *, by: str | None = None) -> None:
        """The reason for a Pause or Stop pressed earlier (``what`` is ``pause`` or ``stopped``),
        asked after the device was told: its own event, linked to the press by its time. A blank
        reason is recorded as not given. While the stop waits for the device's end, the reason
        also becomes the session's end reason; while the pause lasts, the band shows it."""
        if what not in ("pause", "stopped"):
            raise ValueError(f"no reason is asked for {what!r}")
        reason = (reason or "").strip() or None
        self._event(host_t, None, "reason", what, reason_detail(reason, self.pressed_at.get(what)), by)
        if reason is None:
            return
        if what == "stopped" and self._stop is not None and not self.ended and self._stop[1] is None:
            status, _none, stop_by, deadline = self._stop
            self._stop = (status, reason, stop_by, deadline)
        elif what == "pause" and self.state == "paused" and self.pause_reason is None:
            self.pause_reason = reason

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
        self._event(host_t, None, "note", None, note_detail(text), by)

    def side_effect(
        self, host_t: float, kind: str, rating: int, note: str | None = None, *, by: str | None = None
    ) -> None:
        """A side effect the patient reported, rated 0 (none) to 10 (worst)."""
        kind, detail = side_effect_detail(kind, rating, note)
        self._event(host_t, None, "side_effect", kind, detail, by)

    def acknowledge(self, host_t: float, kind: str, *, by: str | None = None) -> None:
        """The technician saw the alarm; it stays until its cause clears."""
        self.alarm_book.acknowledge(host_t, kind, by)

    def command(
        self, host_t: float, name: str, outcome: str, args: tuple[object, ...] = (), *,
        reason: str | None = None, message: str | None = None, by: str | None = None,
    ) -> None:
        """A device command the console sent (or could not send), and how the device answered."""
        detail = command_detail(outcome, args, reason=reason, message=message)
        self._event(host_t, None, "command", name, detail, by)

    def set_link_counters(self, received: int, rejected: int, missing: int) -> None:
        """The adapter's frame counters (cumulative for the session)."""
        self.frames_received = received
        self.frames_rejected = rejected
        self.frames_missing = missing

    def connected(self, host_t: float, identity: ev.Hello | None) -> None:
        """The adapter is open (before any event): who the device says it is."""
        self.device.connected = True
        if identity is not None:
            self.device.identity = identity

    # ---------------------------------------------------------------- events

    def feed(self, event: Any) -> None:
        """One device event, in the order the adapter produced them."""
        handler = self._dispatch.get(type(event))
        if handler is None:
            return  # link-level or unknown: nothing for the record
        device_t = event.device_t
        if device_t is not None:
            self.time.advance(device_t)
            if not self.device.connected and not isinstance(event, ev.DeviceLost):
                self.device.connected = True
        handler(event)

    def _on_pose(self, e: ev.Pose) -> None:
        t = self.time.t_last
        row, distance, trace = self.track.see(e, t)
        if row is not None:
            self._rows.poses.append(row)
            self._n_rows += 1
        if trace:
            self.series.append(SeriesPoint(self.time.seconds(t), distance, None, False))
        if self.state in ("armed", "running"):
            self._check_pose_alarms(e.host_t, e.device_t)

    def _on_pulse(self, e: ev.Pulse) -> None:
        count, tally, greetings = e.count, self.pulses, self.device.greetings
        if not self.ended and tally.is_new_run(e, greetings):
            detail = tally.new_segment()  # the device restarted: its pulses are new, not repeats
            log.warning("device restarted its count at %d: segment %d", count, detail["segment"])
            self.time.rebase(e.device_t)
            self._event(e.host_t, e.device_t, "device_restarted", None, detail)
        if tally.seen(count):
            # never stored twice; said in the record (the first few), never silently dropped
            tally.repeated += 1
            log.warning("pulse %d reported again: kept once", count)
            if tally.repeated <= REPEATS_RECORDED:
                self._event(e.host_t, e.device_t, "pulse_repeated", None,
                            {"count": tally.offset + count, "repeats_so_far": tally.repeated})
            return
        if self.ended:
            tally.after_end += 1
            log.warning("pulse %d arrived after the session ended: not part of this record", count)
            return
        if self.state in ("ready", "armed"):
            self._begin_run(e.host_t, e.device_t, "pulse")
        if count > tally.seg_max + 1:
            self._missing(e.host_t, e.device_t, tally.max_count + 1, tally.offset + count - 1)
        self.device.outage_since_pulse = self.device.outage
        t = self.time.t_last
        # The pose nearest before the pulse's own time (a separate tracker's pose may be read just
        # after it); no pose when too old to say where the coil was.
        at = self.track.pose_at_pulse(min(t, self.time.at(e.device_t)) if t is not None else None)
        row = tally.row(e, self.train, at.pose, at.deviation, greetings, at.age_ms)
        self._rows.pulses.append(row)
        self._n_rows += 1
        on = row["on_target"]
        self.series.append(SeriesPoint(self.time.seconds(t), row["distance_mm"], e.mso, True,
                                       None if on is None else bool(on)))
        if self._panel is not None:
            self._panel_pulse(e.host_t)
        if self.track.had_pose and self.state == "running":
            self._check_pose_alarms(e.host_t, e.device_t)
        if self.config.prescribed_mso is not None:
            self._check_intensity(e.host_t, e.device_t, e.mso)

    def _missing(self, host_t: float, device_t: int | None, first: int, last: int) -> None:
        detail = {"first": first, "last": last, "pulses": last - first + 1}
        if self.device.outage_since_pulse:
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
            protocol = self.protocol
            if (self.config.ends_on_plan and protocol is not None and self.state == "running"
                    and e.train >= protocol.trains and self.pulses.delivered >= protocol.planned_pulses):
                self._end(e.host_t, e.device_t, "completed", None, None)

    def _on_status(self, e: ev.Status) -> None:
        previous = self.device_state
        self.device_state = e.state
        self.coil_temp_c = e.coil_temp_c
        self.device.on_coil(e.host_t, e.device_t, e.coil_id)
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
            reason = self.device.fault_words() if e.state == "FAULT" else None
            self._enter_pause(e.host_t, e.device_t, reason, None, source="device")
        elif e.state == "RUNNING" and previous in ("PAUSED", "FAULT") and self.state == "paused":
            self._leave_pause(e.host_t, e.device_t, None, source="device")
        if self.track.had_pose and self.state == "running":
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

    def _on_eos(self, e: ev.EndOfSession) -> None:
        if self.ended:
            return
        if self.state == "ready" and self._stop is None:
            log.info("end of a run the console did not start (%s): ignored", e.reason)
            return
        tally = self.pulses
        if e.pulses > tally.seg_max:
            self._missing(e.host_t, e.device_t, tally.max_count + 1, tally.offset + e.pulses)
        tally.eos_pulses = max(tally.eos_pulses, e.pulses)
        if e.reason == "COMPLETE":
            self._end(e.host_t, e.device_t, "completed", None, None)
        elif self._stop is not None:
            status, reason, by, _ = self._stop
            self._end(e.host_t, e.device_t, status, reason, by)
        else:
            self._end(e.host_t, e.device_t, "stopped", "stopped at the device", None)

    def _on_lost(self, e: ev.DeviceLost) -> None:
        if self.device.on_lost(e):
            self.track.lose()
            self.alarm_book.forget_pose(e.host_t, e.device_t)

    # ---------------------------------------------------------------- alarms

    def _check_pose_alarms(self, host_t: float, device_t: int | None) -> None:
        track = self.track
        self.alarm_book.check_pose(
            host_t, device_t, self.time.t_last, visible=track.pose is not None, pose_t=track.pose_t,
            deviation=track.deviation, had_pose=track.had_pose,
        )

    def _check_intensity(self, host_t: float, device_t: int | None, mso: int | None = None) -> None:
        """Alarm while the intensity (setting, or a pulse's) differs from the prescription."""
        self.alarm_book.check_intensity(
            host_t, device_t, delivering=self.state in ("running", "paused"),
            mso=self.mso if mso is None else mso,
        )

    # ----------------------------------------------------------- transitions

    def _begin_run(self, host_t: float, device_t: int | None, cause: str) -> None:
        by_device = self.state == "ready"
        self.state = "running"
        self.run_start_t = self.time.t_last
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
        self.pause_reason = reason or (DEVICE_PAUSE_WORDS if source == "device" else None)
        self._event(host_t, device_t, "pause", None, detail, by)
        self.alarm_book.forget_pose(host_t, device_t)

    def _leave_pause(self, host_t: float, device_t: int | None, by: str | None, source: str) -> None:
        self.state = "running"
        self.pause_reason = None
        self._event(host_t, device_t, "resume", None, {"source": source}, by)

    def _request_end(
        self, host_t: float, status: str, reason: str | None, by: str | None, wait: bool
    ) -> None:
        if self.ended:
            raise InvalidAction(f"the session has already ended ({self.end_status})")
        asked_after = reason is None and status == "stopped"  # the reason is asked after the stop
        reason = (reason or "").strip() or None
        if reason is None and not asked_after:
            raise InvalidAction(f"a session {status} needs a reason")
        if self._stop is not None and self._stop[0] == "aborted" and status == "stopped":
            return  # an abort is not softened into a stop
        self.pressed_at[status] = self.clock.iso(host_t)
        self._event(host_t, None, "end_requested", status,
                    {"reason_asked_after": True} if reason is None else {"reason": reason}, by)
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
        self.run_end_t = self.time.t_last
        self.pause_reason = None
        self.alarm_book.clear_all(host_t, device_t)
        detail: dict[str, Any] = {
            "pulses_delivered": self.pulses_delivered,
            "pulses_recorded": self.pulses.recorded,
        }
        if reason:
            detail["reason"] = reason
        detail.update(self._panel_detail(host_t))
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
