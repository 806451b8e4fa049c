"""Small dialogs at the chair: a reason (pause, stop, intensity override), a
note, a side effect with its 0-10 rating. Each is answered from the keyboard
alone: the first field has focus, Enter accepts, Escape cancels.

They are opened with ``open()`` (window-modal, non-blocking) and report
through ``submitted``, so a running session's screen keeps updating behind
them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

OTHER = "Other"


def open_dialog(owner: QWidget, dialog: QDialog, on_closed=None) -> None:
    """Open ``dialog`` window-modal; when it closes, the keyboard focus goes back where it was
    (a keyboard user goes on without reaching for the mouse)."""
    before = QApplication.focusWidget()

    def closed(_result: int) -> None:
        window = owner.window()
        window.activateWindow()
        handle = window.windowHandle()
        if handle is not None:
            handle.requestActivate()
        if before is not None and before.isVisible() and before.isEnabled():
            before.setFocus()
        else:
            owner.setFocus()
        dialog.deleteLater()
        if on_closed is not None:
            on_closed()

    dialog.finished.connect(closed)
    dialog.open()


class _Dialog(QDialog):
    """Common frame: a prompt, fields, OK/Cancel, an error line that says what is missing."""

    def __init__(self, title: str, prompt: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(480)
        self.layout_ = QVBoxLayout(self)
        self.prompt = QLabel(prompt, self)
        self.prompt.setWordWrap(True)
        self.layout_.addWidget(self.prompt)
        self.error = QLabel("", self)
        self.error.setObjectName("error")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setAccessibleName("OK")
        ok.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.buttons.accepted.connect(self._try_accept)
        self.buttons.rejected.connect(self.reject)

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.error)
        self.layout_.addWidget(self.buttons)

    def _try_accept(self) -> None:
        problem = self.problem()
        if problem:
            self.error.setText(problem)
            return
        self.emit_submitted()
        self.accept()

    def problem(self) -> str | None:
        return None

    def emit_submitted(self) -> None:
        raise NotImplementedError


class ReasonDialog(_Dialog):
    """Pick a reason from the clinic's list, or type one; ``submitted(reason)``."""

    submitted = Signal(str)

    def __init__(self, title: str, prompt: str, reasons: list[str], parent: QWidget | None = None) -> None:
        super().__init__(title, prompt, parent)
        self.choice = QComboBox(self)
        self.choice.addItems(reasons or [OTHER])
        self.choice.setAccessibleName("Reason")
        self.details = QLineEdit(self)
        self.details.setPlaceholderText("Details (needed for Other)")
        self.details.setAccessibleName("Reason details")
        self.layout_.addWidget(self.choice)
        self.layout_.addWidget(self.details)
        self.finish_layout()
        self.choice.setFocus()

    def reason(self) -> str:
        choice = self.choice.currentText().strip()
        details = self.details.text().strip()
        if choice == OTHER:
            return details
        return f"{choice}: {details}" if details else choice

    def problem(self) -> str | None:
        if not self.reason():
            return "Please type the reason."
        return None

    def emit_submitted(self) -> None:
        self.submitted.emit(self.reason())


class NoteDialog(_Dialog):
    """A free-text note for the session record; Ctrl+Enter saves."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None, title: str = "Note",
                 prompt: str = "A note for the session record:") -> None:
        super().__init__(title, prompt, parent)
        self.text = QPlainTextEdit(self)
        self.text.setAccessibleName("Note text")
        self.text.setTabChangesFocus(True)
        self.text.setMinimumHeight(120)
        self.layout_.addWidget(self.text)
        hint = QLabel("Ctrl+Enter saves", self)
        hint.setObjectName("hint")
        self.layout_.addWidget(hint)
        self.finish_layout()
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self._try_accept)
        self.text.setFocus()

    def problem(self) -> str | None:
        return None if self.text.toPlainText().strip() else "The note is empty."

    def emit_submitted(self) -> None:
        self.submitted.emit(self.text.toPlainText().strip())


class SideEffectDialog(_Dialog):
    """A side effect the patient reports: rating 0 (none) to 10 (worst), optional words.
    ``submitted(kind, rating, note)``."""

    submitted = Signal(str, int, str)

    def __init__(self, kind: str, label: str, parent: QWidget | None = None) -> None:
        super().__init__(f"Side effect: {label}", f"{label}: how strong, from 0 (none) to 10 (worst)?",
                         parent)
        self.kind = kind
        self.rating = QSpinBox(self)
        self.rating.setRange(0, 10)
        self.rating.setValue(0)
        self.rating.setAccessibleName("Rating from 0 to 10")
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, 10)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setAccessibleName("Rating slider")
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the spin box takes the keys
        self.rating.valueChanged.connect(self.slider.setValue)
        self.slider.valueChanged.connect(self.rating.setValue)
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("What the patient said (optional)" if kind != "other"
                                     else "What it is (needed)")
        self.note.setAccessibleName("Side effect note")
        self.layout_.addWidget(self.rating)
        self.layout_.addWidget(self.slider)
        self.layout_.addWidget(self.note)
        self.finish_layout()
        self.rating.setFocus()
        self.rating.selectAll()

    def problem(self) -> str | None:
        if self.kind == "other" and not self.note.text().strip():
            return "Please say what the side effect is."
        return None

    def emit_submitted(self) -> None:
        self.submitted.emit(self.kind, self.rating.value(), self.note.text().strip())
