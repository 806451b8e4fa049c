"""Small dialogs at the chair: a reason (pause, stop, intensity override), a
note, a side effect with its 0-10 rating. Each is answered from the keyboard
alone: the first field has focus, Enter accepts, Escape cancels.

They are opened with ``open()`` (window-modal, non-blocking) and report
through ``submitted``, so a running session's screen keeps updating behind
them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from console.session.live_entries import SIDE_EFFECT_RATING
from console.ui.clinic.number_field import NumberField
from console.ui.widgets import theme

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
        self.error.setWordWrap(True)  # a message naming the allowed range is read whole
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

    def showEvent(self, event: QShowEvent) -> None:
        """A wrapped prompt needs its height at the width the dialog gets (narrower than it asked
        for on a small screen): never less, so a long list of problems is read whole."""
        super().showEvent(event)
        need = self.heightForWidth(self.width())
        if need > self.height():
            self.resize(self.width(), need)

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
    """Pick a reason from the clinic's list, or type one; ``submitted(reason)``.

    Nothing is chosen at first: Enter on an untouched list records no reason
    nobody chose. ``blank_allowed`` (a reason asked after a Stop or Pause that has
    already acted): OK with nothing chosen, or "Skip", leaves it "not given" (an
    empty ``submitted``, or ``rejected``). ``urgent`` is shown first, in large type.
    """

    submitted = Signal(str)

    def __init__(self, title: str, prompt: str, reasons: list[str], parent: QWidget | None = None, *,
                 urgent: str = "", blank_allowed: bool = False) -> None:
        super().__init__(title, prompt, parent)
        self.blank_allowed = blank_allowed
        self.urgent = QLabel(urgent, self)
        self.urgent.setObjectName("urgent")
        self.urgent.setWordWrap(True)
        self.urgent.setAccessibleName("What to do now")
        self.urgent.setStyleSheet(f"font-size: 26px; font-weight: 700; color: {theme.OFF};")
        self.urgent.setVisible(bool(urgent))
        self.layout_.insertWidget(0, self.urgent)
        self.choice = QComboBox(self)
        self.choice.addItems(reasons or [OTHER])
        self.choice.setPlaceholderText("Choose a reason (arrow keys, or click)")
        self.choice.setCurrentIndex(-1)
        self.choice.setAccessibleName("Reason")
        self.details = QLineEdit(self)
        self.details.setPlaceholderText("Details (needed for Other)")
        self.details.setAccessibleName("Reason details")
        self.layout_.addWidget(self.choice)
        self.layout_.addWidget(self.details)
        self.finish_layout()
        if blank_allowed:
            skip = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
            skip.setText("Skip: reason not given")
            skip.setAccessibleName("Skip, reason not given")
        self.choice.setFocus()

    def reason(self) -> str:
        choice = self.choice.currentText().strip() if self.choice.currentIndex() >= 0 else ""
        details = self.details.text().strip()
        if choice == OTHER or not choice:
            return details
        return f"{choice}: {details}" if details else choice

    def problem(self) -> str | None:
        if self.reason() or (self.blank_allowed and self.choice.currentIndex() < 0):
            return None
        if self.choice.currentIndex() < 0:
            return "Choose a reason from the list, or type one under Details."
        return "Please type the reason."

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
    ``submitted(kind, rating, note)``.

    The rating is typed as text and kept as typed: "15" is refused with the range named,
    never turned into 1 (a spin box would drop the key silently), and nothing is filled in
    for the person."""

    submitted = Signal(str, int, str)

    def __init__(self, kind: str, label: str, parent: QWidget | None = None) -> None:
        super().__init__(f"Side effect: {label}", f"{label}: how strong, from 0 (none) to 10 (worst)?",
                         parent)
        self.kind = kind
        lo, hi = SIDE_EFFECT_RATING
        self.rating = NumberField("the rating", lo, hi, parent=self)
        self.rating.setPlaceholderText(f"{lo} to {hi}")
        self.rating.setAccessibleName(f"Rating from {lo} to {hi}")
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(lo, hi)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setAccessibleName("Rating slider")
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the typed rating takes the keys
        self.slider.sliderMoved.connect(self.rating.setValue)
        self.rating.textChanged.connect(self._follow_rating)
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("What the patient said (optional)" if kind != "other"
                                     else "What it is (needed)")
        self.note.setAccessibleName("Side effect note")
        self.layout_.addWidget(self.rating)
        self.layout_.addWidget(self.slider)
        self.layout_.addWidget(self.note)
        self.finish_layout()
        self.rating.setFocus()

    def _follow_rating(self) -> None:
        value = self.rating.value()
        if value is not None:
            self.slider.blockSignals(True)
            self.slider.setValue(int(value))
            self.slider.blockSignals(False)
        self.error.setText("")

    def problem(self) -> str | None:
        rating = self.rating.problem()
        if rating:
            return rating
        if self.kind == "other" and not self.note.text().strip():
            return "Please say what the side effect is."
        return None

    def emit_submitted(self) -> None:
        value = self.rating.value()
        self.submitted.emit(self.kind, int(value if value is not None else 0), self.note.text().strip())
