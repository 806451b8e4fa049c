"""The live session screen: alarm band, target view, big numbers, plots and
controls, fed by one coalesced update from the LiveBridge.

The view acts on the technician's pause, resume, stop, note and side-effect
requests by calling the runner; starting needs checks first (intensity
against the prescription, the clinic's limits), so it is only requested
here (``start_requested``) and carried out by the technician workspace.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from console.resource_data import lists as clinic_lists
from console.session.snapshot import LiveSnapshot, SeriesPoint
from console.ui.chair.alarms import AlarmBand
from console.ui.chair.live_bridge import LiveBridge, LiveSource
from console.ui.chair.live_plots import LivePlots
from console.ui.chair.session_controls import SessionControls
from console.ui.chair.session_dialogs import NoteDialog, ReasonDialog, SideEffectDialog, open_dialog
from console.ui.chair.target_view import TargetView
from console.ui.widgets.big_numbers import BigNumbers, _set

log = logging.getLogger(__name__)


class SessionActions(LiveSource, Protocol):
    """What the session view asks of a session runner."""

    def pause(self, reason: str, by: str | None = None) -> Any: ...
    def resume(self, by: str | None = None) -> Any: ...
    def stop(self, reason: str, by: str | None = None) -> Any: ...
    def add_note(self, text: str, by: str | None = None) -> Any: ...
    def add_side_effect(
        self, kind: str, rating: int, note: str | None = None, by: str | None = None
    ) -> Any: ...


class SessionView(QWidget):
    """Everything the technician watches during a session."""

    start_requested = Signal()
    adverse_requested = Signal()
    back_requested = Signal()
    ended = Signal(object)  # the final LiveSnapshot, once
    message_shown = Signal(str)

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
        self._pause_reasons = clinic_lists.pause_reasons()
        self._stop_reasons = clinic_lists.stop_reasons()

        header = QHBoxLayout()
        header.addWidget(self.context, 1)
        header.addWidget(self.device_line)
        right = QVBoxLayout()
        right.setSpacing(10)
        if side_panel is not None:
            right.addWidget(side_panel)
        right.addWidget(self.controls, 1)
        right.addWidget(self.message)
        middle = QHBoxLayout()
        middle.setSpacing(12)
        middle.addWidget(self.target, 4)
        centre = QVBoxLayout()
        centre.setSpacing(12)
        centre.addWidget(self.numbers)
        centre.addWidget(self.plots, 1)
        middle.addLayout(centre, 7)
        right_box = QWidget(self)
        right_box.setLayout(right)
        right_box.setMaximumWidth(330)
        right.setContentsMargins(0, 0, 0, 0)
        middle.addWidget(right_box, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(header)
        layout.addWidget(self.band)
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

    # ------------------------------------------------------------------ wiring
    def prepare(self, *, planned_s: float | None = None, tol_mm: float = 3.0,
                prescribed_mso: int | None = None) -> None:
        """A fresh screen for the next session, before its device is connected."""
        self.detach()
        self._ended_sent = False
        self._has_session = False
        self.band.sound.reset()
        self.plots.clear()
        self.plots.set_session_frame(planned_s, tol_mm, prescribed_mso)
        self.show_frame(LiveSnapshot(tol_distance_mm=tol_mm, prescribed_mso=prescribed_mso), [])

    def attach(self, runner: SessionActions) -> None:
        """Follow a runner; the plots fill from its first point."""
        self.runner = runner
        self.bridge.attach(runner)
        self.bridge.tick()

    def detach(self) -> None:
        self.bridge.detach()
        self.band.sound.stop()
        self.runner = None

    def set_context(self, text: str) -> None:
        self.context.setText(text)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
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
        self.controls.set_state(snap.state, connected=snap.device_connected, has_session=self._has_session)
        _set(self.device_line, self._device_words(snap))
        problem = snap.storage_error or snap.command_error
        if problem and problem != self._problem:
            self.show_message(problem)
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
        try:
            fn(*args, by=self.by)
        except Exception as exc:  # the runner words its refusals for people
            log.warning("%s refused: %s", what, exc)
            self.show_message(f"Could not {what}: {exc}")
            return False
        self.show_message("")
        self.bridge.tick()
        return True

    def _open(self, dialog) -> None:
        self.dialog = dialog
        open_dialog(self, dialog, self._dialog_closed)

    def _dialog_closed(self) -> None:
        self.dialog = None

    def ask_pause(self) -> None:
        if self.runner is None:
            return
        dialog = ReasonDialog("Pause", "Why pause the session?", self._pause_reasons, self)
        dialog.submitted.connect(self.pause)
        self._open(dialog)

    def pause(self, reason: str) -> None:
        if self.runner is None:
            return
        self._act("pause", self.runner.pause, reason)

    def resume(self) -> None:
        if self.runner is not None:
            self._act("resume", self.runner.resume)

    def ask_stop(self) -> None:
        if self.runner is None:
            return
        dialog = ReasonDialog("Stop", "Stop the session before the end? Why?", self._stop_reasons, self)
        dialog.submitted.connect(self.stop)
        self._open(dialog)

    def stop(self, reason: str) -> None:
        if self.runner is not None:
            self._act("stop", self.runner.stop, reason)

    def ask_note(self) -> None:
        if self.runner is None:
            return
        dialog = NoteDialog(self)
        dialog.submitted.connect(self.add_note)
        self._open(dialog)

    def add_note(self, text: str) -> None:
        if self.runner is not None:
            self._act("save the note", self.runner.add_note, text)

    def ask_side_effect(self, kind: str, label: str) -> None:
        if self.runner is None:
            return
        dialog = SideEffectDialog(kind, label, self)
        dialog.submitted.connect(self.add_side_effect)
        self._open(dialog)

    def add_side_effect(self, kind: str, rating: int, note: str) -> None:
        if self.runner is not None:
            self._act("record the side effect", self.runner.add_side_effect, kind, rating, note or None)
