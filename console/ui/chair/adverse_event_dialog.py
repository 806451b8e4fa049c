"""The adverse-event screen: the clinic's first-aid steps first, then the record of what happened.

The technician screen stops the run the moment the adverse-event key is
pressed and then opens this, passing the time of the key press. The steps
are the clinic's text, shown large and numbered; the form below keeps what
happened. It does not close on Escape: the record needs what happened, and
closing without it takes a deliberate second click.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QPlainTextEdit, QWidget

from console.people.user import User
from console.safety import adverse_event
from console.store import Store
from console.ui.widgets.form_dialog import FormDialog, label
from console.ui.widgets.qt_dates import edited_datetime, to_qdatetime


class AdverseEventDialog(FormDialog):
    """``recorded(event_id)`` once stored."""

    recorded = Signal(int)

    def __init__(
        self,
        db: Store,
        user: User,
        patient_id: int,
        *,
        session_id: int | None = None,
        course_id: int | None = None,
        pressed_at: datetime | None = None,
        parent: QWidget | None = None,
    ) -> None:
        aid = adverse_event.first_aid()
        super().__init__(aid.get("title", "Adverse event"), None, parent, ok_text="Record the event")
        self.db, self.user = db, user
        self.patient_id, self.session_id, self.course_id = patient_id, session_id, course_id
        self.event_id = 0
        self.setMinimumWidth(760)
        self.steps = label(self._steps_text(None), self, "subValue")
        self.steps.setAccessibleName("First-aid steps")
        self.body.insertWidget(1, self.steps)
        # Where the steps come from, as the clinic wrote it ("unverified" until someone checked).
        self.source = label(self._source_text(None), self, "hint")
        self.source.setAccessibleName("Source of the steps")
        self.body.insertWidget(2, self.source)
        if aid.get("emergency_contact"):
            self.body.insertWidget(3, label(aid["emergency_contact"], self, "warning"))
        self.kind = QComboBox(self)
        self.kind.addItems(adverse_event.event_kinds())
        self.kind.setPlaceholderText("Choose the kind of event")
        self.kind.setCurrentIndex(-1)  # nothing chosen for the person: the record keeps what they chose
        self.kind.setAccessibleName("Kind of event")
        self.kind.currentIndexChanged.connect(self._show_steps)
        when = pressed_at or datetime.now()
        self.occurred = QDateTimeEdit(to_qdatetime(when), self)
        self.occurred.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        self.occurred.setAccessibleName("When it started")
        self.what = QPlainTextEdit(self)
        self.what.setPlaceholderText("What happened: what you saw, how long it lasted")
        self.what.setAccessibleName("What happened")
        self.what.setTabChangesFocus(True)
        self.what.setFixedHeight(90)
        self.actions_taken = QPlainTextEdit(self)
        self.actions_taken.setPlaceholderText("What was done, who was called")
        self.actions_taken.setAccessibleName("What was done")
        self.actions_taken.setTabChangesFocus(True)
        self.actions_taken.setFixedHeight(70)
        self.form.addRow("Kind", self.kind)
        self.form.addRow("Started", self.occurred)
        self.form.addRow("What happened", self.what)
        self.form.addRow("What was done", self.actions_taken)
        self.cancel.setText("Close without recording")
        self.cancel.setAccessibleName("Close without recording")
        self._confirm_close = False
        self.finish()
        self.kind.setFocus()

    @staticmethod
    def _steps_text(kind: str | None) -> str:
        steps = adverse_event.first_aid_steps_for(kind)
        return "\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1))

    def _show_steps(self) -> None:
        """The clinic's steps for the kind chosen (its general steps until one is chosen)."""
        kind = self.kind.currentText() if self.kind.currentIndex() >= 0 else None
        self.steps.setText(self._steps_text(kind))
        self.source.setText(self._source_text(kind))

    @staticmethod
    def _source_text(kind: str | None) -> str:
        text = f"Source: {adverse_event.first_aid_source(kind)}"
        if kind and kind.casefold() in {k.casefold() for k in adverse_event.course_hold_kinds()}:
            text += "\nRecording it puts the course on hold until a physician has reviewed it."
        return text

    def save(self) -> None:
        self.event_id = adverse_event.record_adverse_event(
            self.db,
            self.user,
            self.patient_id,
            self.kind.currentText(),
            self.what.toPlainText(),
            session_id=self.session_id,
            course_id=self.course_id,
            occurred_at=edited_datetime(self.occurred),
            actions_taken=self.actions_taken.toPlainText(),
        )

    def after_save(self) -> None:
        self.recorded.emit(self.event_id)
        self.accept()

    def reject(self) -> None:
        if not self._confirm_close:
            self._confirm_close = True
            self.show_problem(
                "Nothing is recorded yet. Press 'Close without recording' again to close anyway."
            )
            return
        super().reject()
