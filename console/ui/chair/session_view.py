"""The live session screen: alarm band, target view, big numbers, plots and
controls, fed by one coalesced update from the LiveBridge.

The view acts on the technician's pause, resume, stop, note and side-effect
requests by calling the runner; starting needs checks first (intensity
against the prescription, the clinic's limits), so it is only requested
here (``start_requested``) and carried out by the technician workspace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from console.resource_data import lists as clinic_lists
from console.session.snapshot import LiveSnapshot, SeriesPoint
from console.ui.chair.alarms import AlarmBand
from console.ui.chair.live_bridge import LiveBridge, LiveSource
from console.ui.chair.live_plots import LivePlots
from console.ui.chair.plain_words import DetailsFold, device_problem
from console.ui.chair.session_controls import SessionControls
from console.ui.chair.session_dialogs import NoteDialog, ReasonDialog, SideEffectDialog, open_dialog
from console.ui.chair.target_view import TargetView
from console.ui.widgets.big_numbers import BigNumbers, _set

log = logging.getLogger(__name__)


class SessionActions(LiveSource, Protocol):
    """What the session view asks of a session runner."""

    def pause(self, reason: str | None, by: str | None = None) -> Any: ...
    def resume(self, by: str | None = None) -> Any: ...
    def stop(self, reason: str | None, by: str | None = None) -> Any: ...
    def give_reason(self, what: str, reason: str | None, by: str | None = None) -> Any: ...
    def add_note(self, text: str, by: str | None = None) -> Any: ...
    def add_side_effect(
        self, kind: str, rating: int, note: str | None = None, by: str | None = None
    ) -> Any: ...


class _Answered(QObject):
    """Carries a device command's answer (from the command thread) into the GUI thread."""

    done = Signal(object, object)  # the Future, what to do with it in the GUI thread


def _when_answered(relay: _Answered, result: Any, then: Callable[[Future | None], None]) -> None:
    """Call ``then`` in the GUI thread once the device has answered the command behind ``result``
    (a runner's Future); at once when there is nothing to wait for."""
    if isinstance(result, Future):
        result.add_done_callback(lambda future: relay.done.emit(future, then))
    else:
        then(None)


def device_words(future: Future | None) -> str:
    """How the device took a Stop or Pause: empty when it confirmed, else what to do at its panel."""
    if future is None or future.cancelled():
        return ""
    if future.exception() is not None:
        return "not_confirmed"
    return "" if future.result() else "not_commanded"


class SessionView(QWidget):
    """Everything the technician watches during a session."""

    start_requested = Signal()
    adverse_requested = Signal()
    back_requested = Signal()
    ended = Signal(object)  # the final LiveSnapshot, once
    message_shown = Signal(str)
    reason_recorded = Signal(str, str)  # what (pause, stopped), the reason ("" when not given)

    def __init__(self, parent: QWidget | None = None, side_panel: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Session")
        self.runner: SessionActions | None = None
        self.by: str | None = None  # the technician's user name, recorded with each action
        self.bridge = LiveBridge(self)
        self.bridge.updated.connect(self.show_frame)
        self.context = QLabel("", self)
        self.context.setObjectName("screenTitle")
        self.context.setTextFormat(Qt.TextFormat.PlainText)
        self.context.setAccessibleName("Patient and session")
        self.context.setMinimumWidth(200)
        self.context.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.device_line = QLabel("", self)
        self.device_line.setObjectName("hint")
        self.device_line.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.band = AlarmBand(self)
        self.target = TargetView(self)
        self.numbers = BigNumbers(self)
        self.plots = LivePlots(self)
        self.controls = SessionControls(self)
        self.message = QLabel("", self)
        self.message.setObjectName("warning")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        self.message.setVisible(False)
        self.message_details = DetailsFold(self)  # a device's exact words, folded away
        self.notice = QLabel("", self)  # what was just recorded, so the technician knows it was
        self.notice.setObjectName("subValue")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setAccessibleName("Recorded")
        self.notice.setVisible(False)
        self._pause_reasons = clinic_lists.pause_reasons()
        self._side_effect_labels = {c["kind"]: c["label"] for c in clinic_lists.side_effect_choices()}
        self._stop_reasons = clinic_lists.stop_reasons()

        # Laid out to fit a 1280×720 screen under a notice (issue 20, item 7): the messages have a
        # full-width row under the band instead of wrapping down the narrow right column, and
        # "Not now: back to patients" sits in the header; spare height at larger sizes goes to
        # the target and the plots.
        header = QHBoxLayout()
        header.setSpacing(12)
        header.addWidget(self.context, 1)
        header.addWidget(self.device_line)
        header.addWidget(self.controls.back)
        said = QHBoxLayout()
        said.setSpacing(12)
        said.addWidget(self.message, 2)  # the urgent words get the wider part: one line, not two
        said.addWidget(self.notice, 1)
        self._said = said
        right = QVBoxLayout()
        right.setSpacing(8)
        if side_panel is not None:
            right.addWidget(side_panel)
        right.addWidget(self.controls, 1)
        middle = QHBoxLayout()
        middle.setSpacing(12)
        middle.addWidget(self.target, 3)
        centre = QVBoxLayout()
        centre.setSpacing(8)
        centre.addWidget(self.numbers)
        centre.addWidget(self.plots, 1)
        middle.addLayout(centre, 7)
        right_box = QWidget(self)
        right_box.setLayout(right)
        right_box.setMinimumWidth(320)  # every button's text whole beside the big numbers at 1280 px
        right_box.setMaximumWidth(340)
        right.setContentsMargins(0, 0, 0, 0)
        middle.addWidget(right_box, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addWidget(self.band)
        layout.addWidget(self._storage_banner())
        layout.addLayout(said)
        layout.addWidget(self.message_details)
        layout.addLayout(middle, 1)

        self.controls.start_clicked.connect(self.start_requested)
        self.controls.pause_clicked.connect(self.ask_pause)
        self.controls.resume_clicked.connect(self.resume)
        self.controls.stop_clicked.connect(self.ask_stop)
        self.controls.note_clicked.connect(self.ask_note)
        self.controls.side_effect_clicked.connect(self.ask_side_effect)
        self.controls.adverse_clicked.connect(self.adverse_requested)
        self.controls.back_clicked.connect(self.back_requested)
        QShortcut(QKeySequence("Ctrl+M"), self, self.band.mute)
        self._ended_sent = False
        self._has_session = False
        self._problem: str | None = None
        self.dialog = None  # the dialog open now, if any (tests and keyboard users reach it here)
        self._answered = _Answered(self)
        self._answered.done.connect(lambda future, then: then(future))

    # ------------------------------------------------------------------ wiring
    def prepare(self, *, planned_s: float | None = None, tol_mm: float = 3.0,
                prescribed_mso: int | None = None, target_tracked: bool = True) -> None:
        """A fresh screen for the next session, before its device is connected."""
        self.detach()
        self._ended_sent = False
        self._has_session = False
        self.notice.setVisible(False)
        self._storage_said: str | None = None  # a new session: nothing to say "works again" about
        self.band.sound.reset()
        self.plots.clear()
        self.plots.set_session_frame(planned_s, tol_mm, prescribed_mso)
        self.show_frame(LiveSnapshot(tol_distance_mm=tol_mm, prescribed_mso=prescribed_mso,
                                     target_tracked=target_tracked), [])

    def attach(self, runner: SessionActions) -> None:
        """Follow a runner; the plots fill from its first point."""
        self.runner = runner
        self.bridge.attach(runner)
        self.bridge.tick()

    def detach(self) -> None:
        self.bridge.detach()
        self.band.sound.stop()
        self.runner = None

    def place_beside_message(self, widget: QWidget) -> None:
        """Show ``widget`` (a device's problem) in the full-width message row, beside the
        message: wide, a sentence takes a line or two instead of a narrow column's five."""
        self._said.insertWidget(1, widget, 2)

    def set_context(self, text: str) -> None:
        self.context.setText(text)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.message_details.show_text("", "")
        if text:
            self.message_shown.emit(text)

    # ----------------------------------------------------------------- updates
    def show_frame(self, snap: LiveSnapshot, points: list[SeriesPoint]) -> None:
        """One coalesced update: each part changes only what differs from the last frame."""
        self._has_session = self._has_session or snap.session_id is not None
        self.band.show_snapshot(snap)
        self.target.show_snapshot(snap)
        self.numbers.show_snapshot(snap)
        if points:
            self.plots.append(points)
        self.controls.set_state(snap.state, connected=snap.device_connected, has_session=self._has_session,
                                protocol_confirmed=snap.protocol_confirmed)
        _set(self.device_line, self._device_words(snap))
        self._show_storage(snap.storage_error)
        problem = snap.command_error
        if problem and problem != self._problem:
            # the device's own words go under "Details"; the technician reads plain ones
            self.show_message(device_problem(problem))
            self.message_details.show_text("", problem)
        self._problem = problem
        if snap.state == "ended" and not self._ended_sent:
            self._ended_sent = True
            self.band.sound.stop()
            self.ended.emit(snap)

    @staticmethod
    def _device_words(snap: LiveSnapshot) -> str:
        if not snap.device_connected:
            return "device not connected"
        parts = [snap.device_label or "device", (snap.device_state or "").lower()]
        if snap.frames_rejected or snap.frames_missing:
            parts.append(f"{snap.frames_rejected} bad / {snap.frames_missing} lost frames")
        return " · ".join(p for p in parts if p)

    # ----------------------------------------------------------------- actions
    def _act(self, what: str, fn, *args) -> bool:
        """Call the runner; a refusal becomes a plain message, never a traceback."""
        return self._act_now(what, fn, *args) is not False

    def _open(self, dialog) -> None:
        self.dialog = dialog
        open_dialog(self, dialog, self._dialog_closed)
        self.keep_numbers_visible(dialog)

    def keep_numbers_visible(self, dialog: QWidget) -> None:
        """Place a dialog below the big numbers (over the plots), never over them: the
        technician keeps seeing the pulses and the intensity while writing a note."""
        numbers = self.numbers.rect()
        top_left = self.numbers.mapToGlobal(numbers.bottomLeft())
        size = dialog.frameGeometry().size().expandedTo(dialog.sizeHint())
        x = top_left.x() + max(0, (numbers.width() - size.width()) // 2)
        y = top_left.y() + 8
        screen = (self.window().screen() or dialog.screen()).availableGeometry()
        x = max(screen.left(), min(x, screen.right() - size.width()))
        y = max(screen.top(), min(y, screen.bottom() - size.height()))
        dialog.move(x, y)

    def _dialog_closed(self) -> None:
        self.dialog = None

    def ask_pause(self) -> None:
        """Pause at once (the device is told now); the reason is asked once the device answered."""
        runner = self.runner
        if runner is None:
            return
        result = self._act_now("pause", runner.pause, None)
        if result is not False:
            _when_answered(self._answered, result, lambda future: self._ask_reason(runner, "pause", future))

    def pause(self, reason: str) -> None:
        """Pause with the reason already known (the reason is in the pause's own event)."""
        if self.runner is None:
            return
        self._act("pause", self.runner.pause, reason)

    def resume(self) -> None:
        if self.runner is not None:
            self._act("resume", self.runner.resume)

    def ask_stop(self) -> None:
        """Stop at once (the device is told now, the record keeps the time of the press);
        the reason is asked once the device answered, as after an adverse event."""
        runner = self.runner
        if runner is None or runner.snapshot().stopping:  # pressed again: it is stopping already
            return
        result = self._act_now("stop", runner.stop, None)
        if result is not False:
            _when_answered(self._answered, result, lambda future: self._ask_reason(runner, "stopped", future))

    def stop(self, reason: str) -> None:
        """Stop with the reason already known (the reason is in the stop's own event)."""
        if self.runner is not None:
            self._act("stop", self.runner.stop, reason)

    def _act_now(self, what: str, fn, *args) -> Any:
        """Like :meth:`_act`, returning the runner's answer (a Future), or False when refused."""
        try:
            result = fn(*args, by=self.by)
        except Exception as exc:  # the runner words its refusals for people
            log.warning("%s refused: %s", what, exc)
            self.show_message(f"Could not {what}: {exc}")
            return False
        self.show_message("")
        self.bridge.tick()
        return result

    def _ask_reason(self, runner: SessionActions, what: str, future: Future | None) -> None:
        """The reason for a Stop or Pause that has already acted; left blank, it is recorded as
        not given. A device that was not told (it takes no such command, or did not confirm)
        is named first, in large type: stop or pause it at its own panel now."""
        device = device_words(future)
        if what == "stopped":
            title, prompt, reasons = "Stopped", "The session was stopped. Why?", self._stop_reasons
            urgent = {"not_commanded": "Stop the stimulator at its own panel now: this console "
                                       "only records it and cannot stop it.",
                      "not_confirmed": "The device did not confirm the stop: stop the stimulator "
                                       "at its own panel now."}.get(device, "")
        else:
            title, prompt, reasons = "Paused", "The session is paused. Why?", self._pause_reasons
            urgent = {"not_commanded": "Pause the stimulator at its own panel now: this console "
                                       "only records it and cannot pause it.",
                      "not_confirmed": "The device did not confirm the pause: check the stimulator "
                                       "at its own panel now."}.get(device, "")
        if urgent:
            self.show_message(urgent)
        dialog = ReasonDialog(title, prompt, reasons, self, urgent=urgent, blank_allowed=True)
        answered: list[bool] = []

        def give(reason: str | None) -> None:
            if answered:
                return
            answered.append(True)
            try:
                runner.give_reason(what, reason, by=self.by)
            except Exception as exc:
                log.warning("%s reason not recorded: %s", what, exc)
                self.show_message(f"The reason was not recorded: {exc}")
                return
            said = (reason or "").strip()
            self.confirm(f"Reason recorded: {said}" if said else "Recorded: reason not given")
            self.reason_recorded.emit(what, said)

        dialog.submitted.connect(give)
        dialog.rejected.connect(lambda: give(None))
        self._open(dialog)

    def ask_note(self) -> None:
        if self.runner is None:
            return
        dialog = NoteDialog(self)
        dialog.submitted.connect(self.add_note)
        self._open(dialog)

    def add_note(self, text: str) -> None:
        if self.runner is not None and self._act("save the note", self.runner.add_note, text):
            self.confirm("Note recorded")

    def confirm(self, what: str) -> None:
        """Say what was just recorded, with the time, until the next thing is."""
        self.notice.setText(f"{what} at {datetime.now().strftime('%H:%M')}.")
        self.notice.setVisible(True)

    def ask_side_effect(self, kind: str, label: str) -> None:
        if self.runner is None:
            return
        dialog = SideEffectDialog(kind, label, self)
        dialog.submitted.connect(self.add_side_effect)
        self._open(dialog)

    def add_side_effect(self, kind: str, rating: int, note: str) -> None:
        if self.runner is not None and self._act(
                "record the side effect", self.runner.add_side_effect, kind, rating, note or None):
            label = self._side_effect_labels.get(kind, kind.replace("_", " "))
            self.confirm(f"Side effect recorded: {label} {rating}/10")

    # ----------------------------------------------------------------- storage
    def _storage_banner(self) -> QLabel:
        """Full width under the alarm band, red: rows not reaching the disk must be seen at once."""
        self.storage = QLabel("", self)
        self.storage.setObjectName("error")
        self.storage.setWordWrap(True)
        self.storage.setAccessibleName("Saving problem")
        self.storage.hide()
        self._storage_said = None
        return self.storage

    def _show_storage(self, problem: str | None) -> None:
        """Show the storage problem while it lasts; when it clears, say that saving works again."""
        if problem == self._storage_said:
            return
        if problem:
            self.storage.setText(problem)
            self.storage.show()
            self.message_shown.emit(problem)
        else:
            self.storage.hide()
            self.storage.setText("")
            self.show_message("Saving to the database works again: what was kept in memory is saved.")
        self._storage_said = problem
