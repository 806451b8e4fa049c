"""SessionRunner: records one session from a device adapter into the database.

Plain threads, no Qt. Three threads, none waiting on another's slow work:

- the reader pulls events from the adapter, feeds the SessionRecorder and
  hands its rows to the Writer, whose own thread commits them (at least every
  100 ms); the reader never waits for the UI or the disk;
- a command thread (console.session.device_commands) sends device commands
  (LOAD, SET, START, PAUSE, ...), which may take a device's time to answer,
  so a button press never blocks; every command goes through it (never
  through the adapter directly) and lands in the record as ``command``
  events: sent, then acknowledged, refused (with the device's reason), timed
  out or failed; unsupported when the device takes no commands of that kind;
- the caller (UI or CLI) reads ``snapshot()`` and ``series_since()``, cheap
  copies taken under a lock that the reader holds for one event at a time.

The reader's periodic work (handing rows over, ending a stop whose grace is
over, the session row's summary and heartbeat) runs by the clock, checked on
every event: a real device streams pose at 30-60 Hz without a gap and never
sends an end of session, so work done only when the stream pauses would never
be done at all.

The session row is created with its lock held (db.session_lock), so another
process starting meanwhile never takes the live session for interrupted.
The last update of the row carries the final summary and the end status
together, because an ended session is append-only.

A finite source (a replayed capture) that has given its last event ends the
session itself, stopped with :data:`CAPTURE_ENDED`, in the GUI as in ``record``.

Nothing the device sent is dropped silently: while the storage fails the
writer keeps the rows and retries, ``storage_error`` says so in plain words,
and at the end the reader keeps retrying for :attr:`SessionRunner.end_retry_s`
(or until :meth:`SessionRunner.give_up_saving`); what could not be saved is
then in :attr:`SessionRunner.lost_rows`, per table.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from console.safety.limits import IntensityRefused, intensity_refusal
from console.session.device_commands import DeviceCommands
from console.session.recorder import SessionRecorder, reason_detail
from console.session.recording_terms import InvalidAction, RecorderConfig, RecordingTerms, WallClock
from console.session.snapshot import LiveSnapshot, SeriesPoint
from db.database import connect, new_uuid, utc_now
from db.session_lock import SessionLock, begin_locked_session
from db.writer import FilesReplaced, Writer, storage_problem
from devices.adapter import CommandError, DeviceAdapter, redact_url
from devices.combined import CombinedAdapter
from devices.events import EndOfSession

log = logging.getLogger(__name__)

IDLE_S = 0.05
"""The reader's longest wait for an event; also how often, at most, a stop's end is looked for."""
HAND_OVER_S = 0.02
"""Rows wait at most this long in the recorder before they are handed to the writer."""
SUMMARY_S = 1.0
"""How often the session row's summary and heartbeat are written."""
END_RETRY_S = 30.0
"""How long, by default, the end of the record keeps retrying rows the storage refuses."""
CAPTURE_ENDED = "the capture ended before the device ended the run"
"""The end reason of a replayed capture that ran out before the device's end of session."""
ANSWER_WAIT_S = 3.0
"""How long the end of the record waits for the device's answer to a command already sent (a
command times out after 2 s), so that a STOP's acknowledgement is in the record, not lost behind
the end."""


@dataclass(frozen=True, kw_only=True)
class SessionPlan(RecordingTerms):
    """Who is treated, by whom, against what: everything the session row starts with
    (the recording terms — target, tolerances, prescription, protocol — come from RecordingTerms)."""

    patient_id: int
    course_id: int | None = None
    number_in_course: int | None = None
    technician: str | None = None
    load_protocol: bool = False  # send LOAD with ``protocol`` before START


def _tracker_columns(adapter: DeviceAdapter) -> dict[str, Any]:
    """The session row's tracker columns: the separate coil tracker, when there is one (issue 17)."""
    if not isinstance(adapter, CombinedAdapter):
        return {}
    i = adapter.tracker_identity
    return {"tracker_url": adapter.tracker.url, "tracker_vendor": i.vendor if i else None,
            "tracker_model": i.model if i else None, "tracker_serial": i.serial if i else None}


class SessionRunner:
    """One session from ``open()`` to ``close()``; see the module docstring.

    ``open()`` opens the adapter (if not yet open), creates the session row
    and starts recording; ``start()`` asks the device to run. Every action
    returns a Future that resolves once the device answered (or None when it
    could not be commanded), with the reason as an exception otherwise; the
    UI may ignore it and read the outcome from the snapshot.
    """

    def __init__(
        self, db_path: Path | str, adapter: DeviceAdapter, plan: SessionPlan, *,
        close_adapter: bool = True, monotonic: Callable[[], float] = time.monotonic,
        wall_start: datetime | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.adapter = adapter
        self.plan = plan
        self.close_adapter = close_adapter
        self._monotonic = monotonic
        self._wall_start = wall_start
        self.session_id: int | None = None
        self.session_uuid: str | None = None
        self._lock = threading.Lock()
        self._recorder: SessionRecorder | None = None
        self._writer: Writer | None = None
        self._session_lock: SessionLock | None = None
        self._reader: threading.Thread | None = None
        self._commands = DeviceCommands(adapter, self._record_command)
        self._closing = threading.Event()
        self._close_reason = "recording closed"
        self._ended = threading.Event()
        self._finished = threading.Event()  # the reader has written the end and stopped
        self._refusal: str | None = None  # the database refused a row (a bug, not the storage)
        self._give_up = threading.Event()
        self.end_retry_s = END_RETRY_S
        self.saving_at_end = False
        """True while the session has ended and the reader still retries rows the storage refused."""
        self.lost_rows: dict[str, int] = {}
        """Rows per table (``pulses``, ``poses``, ``session_events``, ``sessions`` …) that could not be
        saved, known once the session has finished."""
        self._summarised = monotonic()  # when the reader last wrote the session row's summary
        self.failure: BaseException | None = None
        self.wait_for_panel_stop = False
        """The chair's choice: after Stop on a device that takes no STOP, keep recording until its
        pulses cease (it is stopped at its own panel), rather than end the record at once."""

    # ------------------------------------------------------------------ life cycle

    def open(self) -> int:
        """Open the device, create the session row (lock held) and start recording; returns its id."""
        if self.session_id is not None:
            raise RuntimeError("this runner has already opened its session")
        self.adapter.open()
        plan = self.plan
        # The wall clock the record's times are stamped with: now, except for a demo's sessions
        # of earlier days (``wall_start``), recorded the real way but dated when they would have been.
        clock = (WallClock(self._monotonic(), self._wall_start) if self._wall_start is not None
                 else WallClock.now(self._monotonic))
        identity = self.adapter.identity
        row: dict[str, Any] = {
            "uuid": new_uuid(),
            "patient_id": plan.patient_id,
            "course_id": plan.course_id,
            "number_in_course": plan.number_in_course,
            "started_at": clock.iso(clock.mono0),
            "technician": plan.technician,
            "device_url": self.adapter.url,
            "device_vendor": identity.vendor if identity else None,
            "device_model": identity.model if identity else None,
            "device_serial": identity.serial if identity else None,
            "device_firmware": identity.firmware if identity else None,
            "pulses_observed": int(self.adapter.observes_pulses),
            **_tracker_columns(self.adapter),
            "protocol": plan.protocol.name if plan.protocol else None,
            "pulses_planned": plan.protocol.planned_pulses if plan.protocol else None,
            "mt_mso": plan.mt_mso,
            "percent_mt": plan.percent_mt,
            "prescribed_mso": plan.prescribed_mso,
            "target_pose": plan.target.to_json() if plan.target else None,
            "tol_distance_mm": plan.tol_distance_mm,
            "tol_angle_deg": plan.tol_angle_deg,
            "heartbeat_at": clock.iso(clock.mono0),
        }
        db = connect(self.db_path)
        try:
            session_id, lock = begin_locked_session(db, self.db_path, row)
        finally:
            db.close()
        self.session_id, self.session_uuid, self._session_lock = session_id, row["uuid"], lock
        config = RecorderConfig(
            session_id=session_id, ends_on_plan=not self.adapter.sends_end_of_session,
            pulses_observed=self.adapter.observes_pulses, **plan.terms(),
        )
        if isinstance(self.adapter, CombinedAdapter):  # a separate tracker: the clinic's pose age
            config = dataclasses.replace(config, pose_max_age_ms=plan.tracker_pose_max_age_ms)
        self._recorder = SessionRecorder(config, clock)
        self._recorder.connected(clock.mono0, identity)
        writer = Writer(self.db_path, max_latency_s=0.1)
        writer.on_error = self._on_storage_error
        writer.on_resumed = self._on_storage_resumed
        try:
            writer.start()
        except BaseException as exc:
            self._end_unstarted(session_id, exc)
            lock.release()
            raise
        self._writer = writer
        self._reader = threading.Thread(target=self._read, name=f"session-{session_id}-reader")
        self._reader.start()
        self._commands.start(f"session-{session_id}-commands")
        log.info("session %s recording from %s", session_id, self.adapter.url)
        return session_id

    def tracker_label(self) -> str | None:
        """The session's separate coil tracker as it named itself (its address, secrets masked,
        before it did); None when there is no tracker apart from the stimulator (issue 17)."""
        adapter = self.adapter
        if not isinstance(adapter, CombinedAdapter):
            return None
        who = adapter.tracker_identity
        named = " ".join(x for x in (who.vendor, who.model, who.serial) if x) if who else ""
        return named or redact_url(adapter.tracker.url)

    def wait_until_ended(self, timeout: float | None = None) -> bool:
        """True once the session has ended and its end is committed."""
        return self._finished.wait(timeout)

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def give_up_saving(self) -> None:
        """Stop retrying rows the storage refuses at the end (the operator asked twice); they are
        counted in :attr:`lost_rows`."""
        self._give_up.set()

    def waiting_rows(self) -> dict[str, int]:
        """Rows per table handed to the writer and not saved yet."""
        writer = self._writer
        return writer.waiting_rows() if writer is not None else {}

    @property
    def storage_fault(self) -> str | None:
        """The storage's fault in plain words while it fails (and after the end, if rows were lost)."""
        writer = self._writer
        return storage_problem(writer.failing) if writer is not None and writer.failing else None

    @property
    def files_incident(self) -> str | None:
        """Set for good once the database's files were found deleted or replaced while recording."""
        writer = self._writer
        if writer is None or writer.incident is None:
            return None
        return f"the database's files were changed while recording: {writer.incident}"

    @property
    def storage_error(self) -> str | None:
        """What the chair and ``record`` say about the storage now; None while all is well."""
        writer = self._writer
        if writer is None:
            return None
        failing = writer.failing
        if isinstance(failing, FilesReplaced):
            return (f"Saving to the database has stopped: {failing}. What is recorded now is kept "
                    "in memory only; do not close the program, and call for help.")
        if failing is not None:
            return (f"Saving to the database is failing ({storage_problem(failing)}). The recording "
                    "goes on: what it records is kept in memory and saved as soon as the disk takes "
                    "it again. Do not close the program.")
        if writer.incident is not None:
            return f"The database's files were changed while recording: {writer.incident}."
        return self._refusal

    def close(self, reason: str = "recording closed", timeout: float = 15.0) -> None:
        """End the session (stopped with ``reason`` unless it ended already), write
        everything, release the lock, stop the threads and (by default) the adapter."""
        if self._reader is None:
            if self.close_adapter:
                self.adapter.close()
            return
        self._close_reason = reason
        self._closing.set()
        self._reader.join(timeout)
        if self._reader.is_alive():
            log.error("session %s: the reader did not stop within %.0f s", self.session_id, timeout)
        self._commands.close(timeout)
        if self.close_adapter:
            self.adapter.close()

    def __enter__(self) -> SessionRunner:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def snapshot(self) -> LiveSnapshot:
        """What the live view shows now (thread-safe, cheap)."""
        if self._recorder is None:
            return LiveSnapshot()
        with self._lock:
            snap = self._recorder.snapshot()
        writer = self._writer
        return replace(
            snap, unsaved_rows=writer.pending if writer is not None else 0,
            storage_error=self.storage_error, command_error=self._commands.error,
        )

    def series_since(self, n: int) -> list[SeriesPoint]:
        """Plot points after the first ``n`` (the UI keeps what it has)."""
        if self._recorder is None:
            return []
        with self._lock:
            return self._recorder.series[n:]

    # ------------------------------------------------------------------ actions

    def start(self, by: str | None = None) -> Future:
        """Arm the session and ask the device to run (LOAD, SET, START when it takes them).

        A device that takes no commands leaves the session armed until its
        first train: the technician starts it at the stimulator.
        """
        armed = self._act(lambda r, now: r.start(now, commanded=self.adapter.supports("START"), by=by))
        if not armed:  # the device already runs it (started at its panel): nothing to send
            done: Future = Future()
            done.set_result(False)
            return done
        return self._submit(lambda: self._start_device(by))

    def pause(self, reason: str | None = None, by: str | None = None) -> Future:
        self._act(lambda r, now: r.pause(now, reason, by=by))
        return self._submit(lambda: self._device_or_undo("PAUSE", lambda r, now: r.resume(now, by=by), by))

    def resume(self, by: str | None = None) -> Future:
        self._act(lambda r, now: r.resume(now, by=by))

        def undo(r: SessionRecorder, now: float) -> None:
            r.pause(now, "the device did not resume")

        return self._submit(lambda: self._device_or_undo("RESUME", undo, by))

    def stop(self, reason: str | None, by: str | None = None) -> Future:
        """Stop: the end is written when the device confirms (EOS) or after a grace time.

        ``reason`` None: the press acts at once and the reason is asked afterwards
        (:meth:`give_reason`)."""
        wait = self.adapter.supports("STOP")
        panel = not wait and self.wait_for_panel_stop

        def stop(r: SessionRecorder, now: float) -> None:
            r.stop(now, reason, by=by, wait_for_device=wait or panel)
            if panel:
                r.watch_panel_stop(now)

        self._act(stop)
        return self._submit(lambda: self._stop_device(by))

    def abort(self, reason: str, by: str | None = None) -> Future:
        wait = self.adapter.supports("STOP")
        self._act(lambda r, now: r.abort(now, reason, by=by, wait_for_device=wait))
        return self._submit(lambda: self._stop_device(by))

    def load_protocol(self, by: str | None = None) -> Future:
        """Before Start: ask the device to load the course's protocol (when it takes LOAD), so the
        technician starts only once the device has confirmed it (``snapshot().protocol_confirmed``).
        The Future resolves False when there is nothing to send."""
        plan, p = self.plan, self.plan.protocol
        if self._recorder is None:
            raise InvalidAction("the session is not open")
        if not plan.load_protocol or p is None or not self.adapter.supports("LOAD"):
            nothing: Future = Future()
            nothing.set_result(False)
            return nothing
        return self._submit(lambda: self._device(
            "LOAD", p.name, p.freq_hz, p.pulses_per_train, p.trains, p.iti_s, p.burst, by=by))

    def give_reason(self, what: str, reason: str | None, by: str | None = None) -> Future:
        """The reason for a Pause or Stop that already acted (``what``: ``pause`` or ``stopped``),
        linked to its press; blank is recorded as not given. In order with the device's events
        while the record is open; once it has ended, appended to the ended session's events (the
        session row itself is append-only) after its end is committed, off the caller's thread."""
        done: Future = Future()
        recorder = self._recorder
        if recorder is None:
            raise InvalidAction("the session is not open")
        with self._lock:
            if not recorder.ended:
                recorder.reason_given(self._monotonic(), what, reason, by=by)
                done.set_result(True)
                return done
            detail = reason_detail(reason, recorder.pressed_at.get(what))

        def append() -> None:
            try:
                self._finished.wait(30.0)  # the end's rows first, so the reason follows them
                db = connect(self.db_path)
                try:
                    with db.conn:
                        db.execute(
                            "INSERT INTO session_events (session_id, at, kind, code, detail, by_user) "
                            "VALUES (?, ?, 'reason', ?, ?, ?)",
                            [self.session_id, utc_now(), what, json.dumps(detail, sort_keys=True), by])
                finally:
                    db.close()
                done.set_result(True)
            except BaseException as exc:
                log.exception("session %s: the %s reason was not saved", self.session_id, what)
                done.set_exception(exc)

        threading.Thread(target=append, name=f"session-{self.session_id}-reason", daemon=True).start()
        return done

    def supports(self, command: str) -> bool:
        """Whether the device may take ``command`` (cheap: no I/O)."""
        return self.adapter.supports(command)

    def set_intensity(self, mso: int, by: str | None = None) -> Future:
        """Ask the device to set ``mso`` (% MSO); like every command, sent from the command thread.

        The Future resolves True on ACK, False when the device takes no SET, and
        carries the device's refusal (CommandRefused, CommandTimeout, ...) otherwise;
        each outcome is a session event either way.
        """
        if self._recorder is None:
            raise InvalidAction("the session is not open")
        return self._submit(lambda: self._set_within_prescription(mso, by))

    def _set_within_prescription(self, mso: int, by: str | None) -> bool:
        """SET above the prescription only with a signed override that covers it (IntensityRefused
        otherwise, and nothing is sent); checked on the command thread, so no screen waits on it."""
        plan = self.plan
        if plan.prescribed_mso is not None and mso > plan.prescribed_mso:
            db = connect(self.db_path)
            try:
                refusal = intensity_refusal(
                    db, session_id=self.session_id, course_id=plan.course_id, protocol=plan.protocol,
                    mt_mso=plan.mt_mso, percent_mt=plan.percent_mt, prescribed_mso=plan.prescribed_mso,
                    device_mso=mso)
            finally:
                db.close()
            if refusal is not None:
                log.warning("session %s: SET %s refused: %s", self.session_id, mso, refusal)
                raise IntensityRefused(refusal)
        return self._device("SET", mso, by=by)

    def add_note(self, text: str, by: str | None = None) -> None:
        self._act(lambda r, now: r.note(now, text, by=by))

    def add_side_effect(self, kind: str, rating: int, note: str | None = None, by: str | None = None) -> None:
        self._act(lambda r, now: r.side_effect(now, kind, rating, note, by=by))

    def acknowledge(self, alarm_kind: str, by: str | None = None) -> None:
        self._act(lambda r, now: r.acknowledge(now, alarm_kind, by=by))

    def _act(self, action: Callable[[SessionRecorder, float], Any]) -> Any:
        """Apply a technician's action to the recorder now (InvalidAction when it does not fit)."""
        if self._recorder is None:
            raise InvalidAction("the session is not open")
        with self._lock:
            if self._recorder.ended:
                raise InvalidAction(f"the session has ended ({self._recorder.end_status})")
            return action(self._recorder, self._monotonic())

    # ------------------------------------------------------------------ commands

    def _submit(self, fn: Callable[[], Any]) -> Future:
        return self._commands.submit(fn)

    def _device(self, name: str, *args: object, by: str | None = None) -> bool:
        return self._commands.send(name, *args, by=by)

    def _stop_device(self, by: str | None) -> bool:
        """Send STOP; a device that turns out to take no STOP sends no end of session either
        (it was learnt only now), so the stop ends now rather than after its grace."""
        if self._device("STOP", by=by):
            return True
        if self.wait_for_panel_stop:  # stopped at its own panel: the record waits for the pulses
            self._act_quietly(lambda r, now: r.watch_panel_stop(now))
        else:
            self._act_quietly(lambda r, now: r.close(now, "stopped at the console"))
        return False

    def _record_command(
        self, name: str, outcome: str, args: tuple[object, ...], **detail: str | None
    ) -> None:
        """Recorded even when the session ended meanwhile: the reader holds a device's end of run
        until the answers to commands already sent are in (:data:`ANSWER_WAIT_S`), so the end stays
        the record's last event."""
        if self._recorder is None:
            return
        with self._lock:
            self._recorder.command(self._monotonic(), name, outcome, args, **detail)

    def _start_device(self, by: str | None) -> bool:
        plan = self.plan
        p = plan.protocol
        if plan.load_protocol and p is not None:
            self._device("LOAD", p.name, p.freq_hz, p.pulses_per_train, p.trains, p.iti_s, p.burst, by=by)
        if plan.prescribed_mso is not None:
            self._device("SET", plan.prescribed_mso, by=by)
        return self._device("START", by=by)

    def _device_or_undo(
        self, name: str, undo: Callable[[SessionRecorder, float], None], by: str | None
    ) -> bool:
        """Send ``name``; if the device refuses, the console's state goes back to the device's."""
        try:
            return self._device(name, by=by)
        except CommandError:
            self._act_quietly(undo)
            raise

    def _act_quietly(self, action: Callable[[SessionRecorder, float], None]) -> None:
        try:
            self._act(action)
        except InvalidAction as exc:
            log.info("session %s: %s", self.session_id, exc)

    # ------------------------------------------------------------------ the reader

    def _recording(self) -> tuple[SessionRecorder, Writer, int]:
        """The recorder, writer and session id: open() sets them before the reader thread starts."""
        recorder, writer, session_id = self._recorder, self._writer, self.session_id
        if recorder is None or writer is None or session_id is None:
            raise RuntimeError("the session has not been opened")
        return recorder, writer, session_id

    def _on_storage_error(self, exc: Exception) -> None:
        writer = self._writer
        if writer is not None and (exc is writer.failing or exc is writer.incident):
            log.error("session %s: saving to the database failed: %s", self.session_id, exc)
            return
        self._refusal = "The database refused part of the record; the rest is saved (see the log)."
        log.error("session %s: the database refused a write: %s", self.session_id, exc)

    def _on_storage_resumed(self) -> None:
        log.warning("session %s: saving to the database works again", self.session_id)

    def _end_unstarted(self, session_id: int, exc: BaseException) -> None:
        """The writer could not start: the row must not stay ``recording`` (nothing will end it)."""
        log.error("session %s: the database writer could not start: %s", session_id, exc)
        now = utc_now()
        try:
            db = connect(self.db_path)
            try:
                with db.conn:
                    db.execute(
                        "UPDATE sessions SET status = 'interrupted', end_reason = ?, ended_at = ?, "
                        "duration_s = 0, heartbeat_at = ? WHERE id = ? AND status = 'recording'",
                        ["the recording could not start: the database could not be written", now, now,
                         session_id])
            finally:
                db.close()
        except Exception:
            log.exception("session %s: could not mark the session interrupted", session_id)

    def _read(self) -> None:
        try:
            self._read_loop()
        except BaseException as exc:  # a bug: end the record cleanly rather than leave it hanging
            self.failure = exc
            log.exception("session %s: the reader failed", self.session_id)
            recorder = self._recording()[0]
            with self._lock:
                if not recorder.ended:
                    recorder.close(self._monotonic(), f"recording failed: {exc}")
        finally:
            self._finish()

    def _read_loop(self) -> None:
        recorder = self._recording()[0]
        lock = self._lock
        feed = recorder.feed
        monotonic = self._monotonic
        events = self.adapter.events
        handed = ticked = monotonic()
        while not self._closing.is_set():
            began = monotonic()
            got = 0
            for event in events(idle_timeout=IDLE_S):
                got += 1
                if isinstance(event, EndOfSession):
                    self._await_answers()  # the STOP's answer goes in the record before its end
                with lock:
                    feed(event)
                if recorder.ended or self._closing.is_set():
                    break
                now = monotonic()  # by the clock: a real device's stream has no gap to wait for
                if now - ticked >= IDLE_S:
                    ticked = handed = now
                    if self._periodic(now):
                        break
                elif now - handed >= HAND_OVER_S or recorder.pending >= 1000:
                    self._hand_over()
                    handed = now
            now = monotonic()
            ticked = handed = now
            if self.adapter.exhausted and not recorder.ended:
                # a finite source has given its last event (all fed): nothing more will come
                with lock:
                    recorder.close(now, CAPTURE_ENDED)
            if self._periodic(now):
                self._ended.set()
                return
            if not got and now - began < IDLE_S / 2:
                time.sleep(IDLE_S)  # the adapter returns at once (closed, or a finished replay)
        with lock:
            recorder.close(monotonic(), self._close_reason)

    def _periodic(self, now: float) -> bool:
        """The reader's work by time: end a stop whose grace is over, hand the rows over, write
        the summary and heartbeat every :data:`SUMMARY_S`; True once the session has ended."""
        recorder = self._recording()[0]
        with self._lock:
            recorder.tick(now)
        self._hand_over()
        if recorder.ended:
            return True
        if now - self._summarised >= SUMMARY_S:
            self._summarised = now
            self._write_summary()
        return False

    def _hand_over(self) -> None:
        """Give the recorder's new rows and the link counters to the writer (never waits)."""
        recorder, writer, _session_id = self._recording()
        counters = self.adapter.counters()
        with self._lock:
            recorder.set_link_counters(counters.received, counters.rejected, counters.missing)
            rows = recorder.take_rows()
        if rows.pulses:
            writer.insert_many("pulses", rows.pulses)
        if rows.poses:
            writer.insert_many("poses", rows.poses)
        if rows.events:
            writer.insert_many("session_events", rows.events)

    def _write_summary(self) -> None:
        recorder, writer, session_id = self._recording()
        with self._lock:
            changes = recorder.summary()
        changes["heartbeat_at"] = utc_now()
        writer.update("sessions", session_id, changes)

    def _save_all(self, writer: Writer) -> bool:
        """Wait until every row is committed; while the storage fails, keep retrying until
        :attr:`end_retry_s` passes or :meth:`give_up_saving` is called. False when rows remain."""
        deadline = time.monotonic() + self.end_retry_s
        while not writer.flush(timeout=1.0):
            if writer.failing is not None and not self.saving_at_end:
                self.saving_at_end = True
                log.error("session %s: the session has ended, %d rows wait to be saved; retrying",
                          self.session_id, sum(writer.waiting_rows().values()))
            hopeless = isinstance(writer.failing, FilesReplaced)  # its file is gone: no retry helps
            if self._give_up.is_set() or time.monotonic() >= deadline or not writer.running or hopeless:
                log.error("session %s: the end of the record could not be saved in time", self.session_id)
                return False
        return True

    def _await_answers(self) -> None:
        """Wait (at most :data:`ANSWER_WAIT_S`) until every command sent has its answer recorded."""
        if not self._commands.await_answers(ANSWER_WAIT_S):
            log.warning("session %s: a device command was still unanswered at the end", self.session_id)

    def _finish(self) -> None:
        """Write the last rows and the end in one update, commit, let go of the lock."""
        recorder, writer, session_id = self._recording()
        self._await_answers()
        try:
            self._hand_over()
            with self._lock:
                changes = recorder.final_changes() if recorder.ended else recorder.summary()
            changes["heartbeat_at"] = utc_now()
            writer.update("sessions", session_id, changes)
            saved = self._save_all(writer)
        except Exception:
            log.exception("session %s: writing the end of the record failed", self.session_id)
            saved = False
        finally:
            writer.close(timeout=10.0 if saved else 1.0)
            lost = collections.Counter(writer.abandoned_rows)
            lost.update(writer.waiting_rows())  # a writer that did not stop: not saved either
            self.lost_rows = {table: n for table, n in lost.items() if n > 0}
            self.saving_at_end = False
            if self.lost_rows:
                log.error("session %s: rows not saved: %s", self.session_id, self.lost_rows)
            if self._session_lock is not None:
                self._session_lock.release()
            self._ended.set()
            self._finished.set()
            log.info("session %s ended: %s (%s)", self.session_id, recorder.end_status, recorder.end_reason)
