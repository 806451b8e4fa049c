"""The technician's workspace: start of day -> checklist -> session (connect,
start, run) -> end of session -> handoff note -> back to the day's list.

It owns the session runner's life: the runner is opened on a worker thread
(device_panel), followed by the live view through the LiveBridge, and closed
on a worker thread when the session has ended (closing joins the runner's
threads and flushes the writer; the screen never waits for it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.clinic.device_address import clinic_secrets, complete_address
from console.people.user import User
from console.safety.start_gate import OverrideKind
from console.session import entries as session_entries
from console.session.course_overview import CourseOverview
from console.session.runner import SessionPlan, SessionRunner
from console.session.start_procedure import StartProcedure, StartRefused
from console.store import Store
from console.ui.chair import start_checks
from console.ui.chair.adverse_event_dialog import AdverseEventDialog
from console.ui.chair.checklist import ChecklistAnswer, ChecklistPage
from console.ui.chair.device_panel import DevicePanel
from console.ui.chair.end_of_session import EndOfSession
from console.ui.chair.plain_words import device_problem
from console.ui.chair.session_dialogs import ReasonDialog, open_dialog
from console.ui.chair.session_view import SessionView
from console.ui.chair.start_of_day import StartOfDay
from console.ui.note.note_view import NoteView
from devices.combined import combine
from devices.registry import create_adapter

log = logging.getLogger(__name__)


def open_runner(db_path: Path, plan: SessionPlan, url: str, tracker_url: str | None = None) -> SessionRunner:
    """Worker thread: build the adapter (the stimulator, with its separate coil tracker when one is
    chosen: issue 17), open the devices and the session's record."""
    tracker = create_adapter(tracker_url) if tracker_url else None
    adapter = combine(create_adapter(url), tracker)
    runner = SessionRunner(db_path, adapter, plan)
    runner.wait_for_panel_stop = True  # a device stopped at its own panel: its last pulses are kept
    try:
        runner.open()
    except BaseException:
        runner.close("the session could not be opened")
        raise
    return runner


class _Relay(QObject):
    """Carries a worker thread's outcome into the GUI thread."""

    done = Signal(str, str)  # outcome, message


class TechnicianWorkspace(QStackedWidget):
    """The pages of one technician's day; see the module docstring."""

    session_finished = Signal(int)  # session id, after the end-of-session screen

    def __init__(self, db: Store, db_path: Path, user: User, *,
                 device_url: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.db_path = Path(db_path)
        self.user = user
        self.setAccessibleName("Technician workspace")
        self.overview: CourseOverview | None = None
        self.plan: SessionPlan | None = None
        self.answers: list[ChecklistAnswer] = []
        self.procedure: StartProcedure | None = None
        self.runner: SessionRunner | None = None
        self.dialog = None
        self._closers: list[threading.Thread] = []
        self.after_close: Callable[[], None] | None = None
        """Called on the closing thread once a session's record is final (the window asks the
        clinic hub's sync to push at once): it must not block, and must not touch widgets."""
        self._probing = False
        self._relay = _Relay(self)
        self._relay.done.connect(self._probed)

        self.start_page = StartOfDay(db, self, user=user)
        self.checklist = ChecklistPage(self)
        self.device_panel = DevicePanel()
        if device_url:
            self.device_panel.set_url(device_url)
        self.session_view = SessionView(self, side_panel=self.device_panel)
        self.session_view.place_beside_message(self.device_panel.problem)
        self.session_view.by = user.username
        self.end_page = EndOfSession(db, self)
        self.note_page = self._note_page()
        for page in (self.start_page, self.checklist, self.session_view, self.end_page, self.note_page):
            self.addWidget(page)

        self.start_page.session_requested.connect(self.begin)
        self.checklist.completed.connect(self.checklist_done)
        self.checklist.held.connect(self.checklist_held)
        self.checklist.back_requested.connect(self.back_to_day)
        self.device_panel.connected.connect(self.connected)
        self.session_view.bridge.updated.connect(self._device_frame)
        self.session_view.start_requested.connect(self.start)
        self.session_view.ended.connect(self.ended)
        self.session_view.adverse_requested.connect(self.adverse_event)
        self.session_view.reason_recorded.connect(self._reason_recorded)
        self.session_view.back_requested.connect(self.leave_before_start)
        self.end_page.finished.connect(self.show_note)
        self.show_day()

    # ------------------------------------------------------------------ pages
    def _note_page(self) -> QWidget:
        """The handoff note's page: a title, the note's preview (filled per session), Done."""
        page = QWidget(self)
        page.setAccessibleName("Handoff note")
        self.note_title = QLabel("Handoff note", page)
        self.note_title.setObjectName("screenTitle")
        self.note_title.setMinimumWidth(200)
        self.note_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.note_title.setWordWrap(True)  # a long title wraps beside Done instead of being cut (issue 20)
        self.note_message = QLabel("", page)
        self.note_message.setObjectName("error")
        self.note_message.setWordWrap(True)
        self.note_done = QPushButton("Done: back to today's patients   Ctrl+Enter", page)
        self.note_done.setObjectName("primary")
        self.note_done.setAccessibleName("Done, back to today's patients")
        self.note_done.setAutoDefault(True)
        self.note_done.clicked.connect(self.show_day)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), page, self._note_done_key)
        top = QHBoxLayout()
        top.addWidget(self.note_title, 1)
        top.addWidget(self.note_done)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.addLayout(top)
        layout.addWidget(self.note_message)
        self.note_holder = layout
        self.note_view: QWidget | None = None
        return page

    def _note_done_key(self) -> None:
        if self.currentWidget() is self.note_page:
            self.show_day()

    def show_day(self) -> None:
        self.start_page.refresh()
        self.setCurrentWidget(self.start_page)
        self.start_page.search.setFocus()

    def back_to_day(self) -> None:
        self.show_day()

    # -------------------------------------------------------------- begin
    def begin(self, overview: CourseOverview) -> None:
        """The start procedure asks the gate; each override it needs is asked here, then the checklist."""
        self.overview = overview
        try:
            self.procedure = StartProcedure(self.db, self.user, overview.patient)
        except Exception as exc:
            log.exception("start gate not evaluated")
            self.start_page.card.blockers.setText(f"The start checks could not be made: {exc}")
            return
        self._next_check()

    def _next_check(self) -> None:
        procedure = self.procedure
        if procedure is None:  # begin() could not make one and said why
            return
        try:
            need = procedure.next_question()
        except Exception as exc:  # a blocker (StartRefused) or records that cannot be read: said in words
            log.info("start refused: %s", exc)
            self.start_page.card.blockers.setText(str(exc))
            return
        if need is None:
            self._to_checklist()
        elif need.kind.signed:
            if need.kind is OverrideKind.EXTRA_SESSION:  # a physician signs (issue 14, item 10)
                dialog = start_checks.physician_extra_session_dialog(
                    need.problems, procedure.sign_extra_session, self)
            else:
                dialog = start_checks.PhysicianOverrideDialog(
                    need.problems, procedure.sign_limit_override, self)
            dialog.signed.connect(lambda _override_id: self._next_check())
            self._open(dialog)
        else:
            reason_dialog = start_checks.early_start_dialog(need.problems[0], self)
            reason_dialog.submitted.connect(self._early_reason)
            self._open(reason_dialog)

    def _early_reason(self, reason: str) -> None:
        procedure = self.procedure
        if procedure is None:
            return
        try:
            procedure.give_early_reason(reason)
        except Exception as exc:
            self.start_page.card.blockers.setText(f"The reason was not recorded: {exc}")
            return
        self._next_check()

    def _to_checklist(self) -> None:
        if self.overview is None:
            return
        self.setCurrentWidget(self.checklist)
        self.checklist.begin(self.overview.title())

    def _keep_checklist(self, answers: list[ChecklistAnswer]) -> bool:
        """Keep the answers with the patient's record now (False: said on the page, not kept)."""
        if self.procedure is None:
            return False
        try:
            self.procedure.keep_checklist([a.as_dict() for a in answers])
        except Exception as exc:
            log.exception("checklist not kept")
            self.checklist.status.setText(f"The checklist was not recorded: {exc}")
            return False
        return True

    def checklist_held(self, answers: list[ChecklistAnswer]) -> None:
        """An answer needs a physician: keep the checklist, and back to the day, where the patient's
        card says the course is on hold and who lifts it."""
        if self.overview is None or not self._keep_checklist(answers):
            return
        self.show_day()

    def checklist_done(self, answers: list[ChecklistAnswer]) -> None:
        self.answers = answers
        overview, procedure = self.overview, self.procedure
        if overview is None or procedure is None:  # no patient was begun: nothing to prepare
            return
        if not self._keep_checklist(answers):
            return
        try:
            self.plan = procedure.plan()
        except StartRefused:  # the answers hold it (a medication change: the MT): the card says so
            log.info("start refused after the checklist: %s", procedure.gate.first_problem())
            self.show_day()
            return
        except Exception as exc:
            log.exception("session plan failed")
            self.checklist.status.setText(f"The session cannot be prepared: {exc}")
            return
        plan = self.plan
        self.device_panel.reset()
        self.device_panel.expect(plan.protocol.name if plan.protocol else None, plan.prescribed_mso)
        self.device_panel.set_opener(self._opener(plan))
        self.session_view.set_context(overview.title())
        self.session_view.show_message("")  # what to do next is the band's to say (issue 20, item 7)
        self.session_view.prepare(
            planned_s=plan.protocol.run_s if plan.protocol else None,
            tol_mm=plan.tol_distance_mm, prescribed_mso=plan.prescribed_mso,
            target_tracked=plan.target is not None,
        )
        self.setCurrentWidget(self.session_view)
        self.device_panel.connect_button.setFocus()

    def _opener(self, plan: SessionPlan):
        db_path = self.db_path
        secrets = clinic_secrets(self.db)  # read here, in the GUI thread: a Magstim's unlock code

        def opener(url: str, tracker_url: str | None = None) -> SessionRunner:
            tracker = complete_address(tracker_url, secrets) if tracker_url else None
            return open_runner(db_path, plan, complete_address(url, secrets), tracker)

        return opener

    # ------------------------------------------------------------- session
    def connected(self, runner: SessionRunner) -> None:
        """The device is open and the session's record exists: keep the checklist with it."""
        self.runner = runner
        self.device_panel.set_tracker(runner.tracker_label())  # the panel names the tracker too
        session_id = runner.session_id
        try:
            if session_id is None:
                raise RuntimeError("the device was connected but no session was opened")
            session_entries.add_checklist(self.db, self.user, session_id, [a.as_dict() for a in self.answers])
            if self.procedure is not None:
                self.procedure.attach(session_id)
        except Exception as exc:
            log.exception("checklist not recorded")
            self.session_view.show_message(f"The checklist was not recorded: {exc}")
        try:  # Start waits until the device has confirmed the course's protocol
            runner.load_protocol(by=self.user.username)
        except Exception as exc:
            log.warning("protocol not sent before start: %s", exc)
        self.session_view.attach(runner)
        self.session_view.show_message("")
        self.session_view.controls.start.setFocus()

    def _device_frame(self, snap, _points) -> None:
        self.device_panel.show_snapshot(snap)

    def start(self) -> None:
        """Start, after the intensity check: a device set to something other than the
        prescription is set by the console when it takes commands; one that refuses (a
        recording-only device) may start only with an explicit override and its reason."""
        runner, plan = self.runner, self.plan
        if runner is None or plan is None or self._probing:
            return
        snap = runner.snapshot()
        if not snap.device_connected:
            self.session_view.show_message("The device is not connected.")
            return
        procedure = self.procedure
        blocked = procedure.device_blocker(snap.device_model, snap.coil_type) if procedure else None
        if blocked:  # another coil than the MT's, or a hold since Begin: nothing is sent to the device
            self.session_view.show_message(blocked)
            return
        prescribed = plan.prescribed_mso
        if prescribed is None or snap.mso == prescribed:
            self._start_runner()
            return
        if runner.supports("SET"):
            if snap.mso is None:
                self._start_runner()  # the runner sets the prescription before START
                return
            self._probe_set(runner, prescribed)
            return
        if snap.mso is None:
            self.session_view.show_message(
                "The device has not reported its intensity yet: wait for its status, then Start again."
            )
            return
        self._ask_intensity_override(snap.mso)

    def _probe_set(self, runner: SessionRunner, prescribed: int) -> None:
        """Ask the device to take the prescription before anything starts. The runner sends it
        from its command thread and records it with the device's answer; the answer reaches
        the GUI thread through the relay, so the screen never waits for the device."""
        self._probing = True
        self.session_view.show_message(f"Setting the device to {prescribed} % MSO …")

        def answered(future: Future) -> None:
            if future.cancelled():
                self._relay.done.emit("failed", "the command was cancelled")
            elif future.exception() is not None:  # refused, timed out, link lost: said in words
                self._relay.done.emit("failed", str(future.exception()))
            else:
                self._relay.done.emit("set" if future.result() else "unsupported", "")

        runner.set_intensity(prescribed, by=self.user.username).add_done_callback(answered)

    def _probed(self, outcome: str, message: str) -> None:
        self._probing = False
        runner = self.runner
        if runner is None:
            return
        if outcome == "set":
            self.session_view.show_message("")
            self._start_runner()
        elif outcome == "unsupported":
            snap = runner.snapshot()
            if snap.mso is None:
                self.session_view.show_message("The device does not report its intensity: it cannot start.")
                return
            self._ask_intensity_override(snap.mso)
        else:
            self.session_view.show_message(
                f"The device did not take the prescribed intensity. {device_problem(message)}")
            self.session_view.message_details.show_text("", message)  # the device's words, folded

    def _ask_intensity_override(self, device_mso: int) -> None:
        plan, procedure = self.plan, self.procedure
        if plan is None or procedure is None:
            return
        need = procedure.intensity_need(device_mso)
        if need is None:  # the gate sees no difference (or no prescription): nothing to override
            self._start_runner()
            return
        if need.kind.signed and self.runner is not None:  # above the prescription (issue 14, item 1)
            session_id = self.runner.session_id or 0
            signed = start_checks.PhysicianOverrideDialog(need.problems, lambda who, password, why: (
                procedure.sign_intensity_override(session_id, device_mso, who, password, why)), self)
            signed.signed.connect(lambda _override_id: self._start_runner())
            self._open(signed)
            return
        dialog = start_checks.intensity_dialog(need.problems[0], plan.percent_mt, plan.mt_mso, self)
        self._override_mso = device_mso
        dialog.submitted.connect(self._intensity_reason)
        self._open(dialog)

    def _intensity_reason(self, reason: str) -> None:
        runner, procedure = self.runner, self.procedure
        if runner is None or runner.session_id is None or procedure is None:
            return
        try:
            procedure.give_intensity_reason(runner.session_id, self._override_mso, reason)
        except Exception as exc:
            self.session_view.show_message(f"The override was not recorded: {exc}")
            return
        # Overridden on purpose: the band still shows the difference, but it does not sound all session.
        self.session_view.band.sound.quiet("intensity")
        self._start_runner()

    def _start_runner(self) -> None:
        runner = self.runner
        if runner is None:
            return
        if runner.snapshot().state != "ready":
            # A device that runs on its own started meanwhile: the recording follows it already.
            self.session_view.show_message("")
            return
        try:
            runner.start(by=self.user.username)
        except Exception as exc:
            self.session_view.show_message(f"Could not start: {exc}")
            return
        self.session_view.show_message("")
        self.session_view.bridge.tick()

    def leave_before_start(self) -> None:
        """Back to the day's list before the start; an open record ends as stopped, with the reason."""
        runner = self.runner
        if runner is None:
            if self.device_panel.connecting:
                self.session_view.show_message("Connecting to the device: wait a moment.")
                return
            self.session_view.prepare()
            self.show_day()
            return
        if runner.snapshot().state != "ready":
            return  # once started, Stop (F8) ends it
        dialog = ReasonDialog("Back without starting",
                              "The device is connected. Why is there no session now?",
                              start_checks.not_started_reasons(), self)
        dialog.submitted.connect(self._not_started)
        self._open(dialog)

    def _not_started(self, reason: str) -> None:
        runner = self.runner
        if runner is None:
            return
        self.runner = None
        self.session_view.detach()
        self._close_in_background(runner, f"not started: {reason}")
        self.session_view.prepare()
        self.show_day()

    def adverse_event(self) -> None:
        """One key: the run stops at once (aborted), then the first-aid steps and the record."""
        pressed_at = datetime.now().astimezone()
        runner, overview = self.runner, self.overview
        session_id = None
        if runner is not None:
            session_id = runner.session_id
            try:
                runner.abort("adverse event", by=self.user.username)
            except Exception as exc:  # already ended: the record of the event still matters
                log.info("abort on adverse event: %s", exc)
            self.session_view.bridge.tick()
        if overview is None:
            return
        dialog = AdverseEventDialog(
            self.db, self.user, overview.patient.id, session_id=session_id,
            course_id=overview.course.id if overview.course else None, pressed_at=pressed_at, parent=self,
        )
        dialog.recorded.connect(self._adverse_recorded)
        self._open(dialog)

    def _reason_recorded(self, what: str, reason: str) -> None:
        """A stop's reason, asked after the stop, shown on the end screen once given."""
        if what == "stopped" and self.currentWidget() is self.end_page:
            self.end_page.reason.setText(f"Reason: {reason or 'not given'}")

    def _adverse_recorded(self, _event_id: int) -> None:
        """The end screen lists the adverse event as soon as it is recorded (never "None reported")."""
        self.end_page.refresh_side_effects()
        self.session_view.confirm("Adverse event recorded")

    def ended(self, snap) -> None:
        """The run has ended: close the runner in the background and go to the end-of-session screen."""
        runner = self.runner
        self.runner = None
        self.session_view.detach()
        if runner is not None:
            self._close_in_background(runner, "session ended")
        overview = self.overview
        self.end_page.show_session(
            snap, user=self.user, patient_id=overview.patient.id if overview else None,
            course_id=overview.course.id if overview and overview.course else None,
            context=overview.title() if overview else "",
        )
        self.setCurrentWidget(self.end_page)

    def _close_in_background(self, runner: Any, reason: str) -> None:
        def close() -> None:
            runner.close(reason)
            hook = self.after_close
            if hook is not None:
                try:
                    hook()
                except Exception:  # the record is final and safe; the hub's sync retries by itself
                    log.exception("after-close hook failed")

        thread = threading.Thread(target=close, name="session-close")
        thread.start()
        self._closers = [t for t in self._closers if t.is_alive()] + [thread]

    # ---------------------------------------------------------------- note
    def show_note(self, session_id: int) -> None:
        """The handoff note of the session just ended; Done leads back to the day's list."""
        if self.note_view is not None:
            self.note_holder.removeWidget(self.note_view)
            self.note_view.deleteLater()
            self.note_view = None
        self.note_title.setText(f"Handoff note — {self.overview.title() if self.overview else ''}")
        self.note_message.setText("")
        try:
            self.note_view = NoteView.for_session(self.db, session_id, parent=self.note_page)
        except Exception as exc:  # the record is safe; say why the note is not shown
            log.exception("note of session %s not built", session_id)
            self.note_message.setText(f"The handoff note could not be made: {exc}")
        else:
            self.note_holder.addWidget(self.note_view, 1)
        self.setCurrentWidget(self.note_page)
        self.note_done.setFocus()
        self.session_finished.emit(session_id)

    # ------------------------------------------------------------- dialogs
    def _open(self, dialog) -> None:
        self.dialog = dialog
        open_dialog(self, dialog, self._dialog_closed)

    def _dialog_closed(self) -> None:
        self.dialog = None

    # ------------------------------------------------------------ shutdown
    def shutdown(self, reason: str = "program closed") -> None:
        """Stop following, close an open session (it ends as stopped), join every thread."""
        self.start_page.stop()
        self.session_view.detach()
        self.device_panel.join()
        runner = self.runner
        self.runner = None
        if runner is not None:
            runner.close(reason)
        for thread in self._closers:
            thread.join(30.0)
        self._closers = []
