"""The frame of the clinical forms: a prompt, fields, a line that says what is wrong, OK / Cancel.

A form's :meth:`FormDialog.save` does the domain call; a mistake the person
can fix (a clinic id taken, a threshold out of range, a wrong password,
not allowed) comes back as a message in the form, never a traceback, and
the form stays open with what was typed. Forms open with ``open()``
(window-modal, not blocking) and report through their own signals.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.errors import ClinicError
from console.people.permissions import PermissionDenied

log = logging.getLogger(__name__)

INDICATORS = """
QRadioButton::indicator, QCheckBox::indicator {
    width: 18px; height: 18px; border: 2px solid #9aa7b4; background: #141a20;
}
QRadioButton::indicator { border-radius: 11px; }
QCheckBox::indicator { border-radius: 4px; }
QRadioButton::indicator:checked, QCheckBox::indicator:checked { background: #7fb2e5; border-color: #e6ebf0; }
QRadioButton::indicator:disabled { border-color: #65727f; }
"""
"""Answer buttons a person can tell apart from 1.5 m: a ring, filled when chosen (the clinic's
style sheet styles the rest)."""


def label(text: str, parent: QWidget, name: str | None = None, wrap: bool = True) -> QLabel:
    widget = QLabel(text, parent)
    widget.setWordWrap(wrap)
    if name:
        widget.setObjectName(name)
    return widget


def restyle(widget: QWidget, name: str) -> None:
    """Give a widget another style-sheet name (hint, warning, error) and repaint it."""
    if widget.objectName() != name:
        widget.setObjectName(name)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


class FormDialog(QDialog):
    """Subclasses add fields to :attr:`form` (or :attr:`body`), then call :meth:`finish`,
    and implement :meth:`save`, raising ClinicError or PermissionDenied for a person's mistake."""

    def __init__(
        self, title: str, prompt: str | None, parent: QWidget | None = None, ok_text: str = "Save"
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(520)
        self.setStyleSheet(INDICATORS)
        self.body = QVBoxLayout(self)
        self.title = label(title, self, "screenTitle")
        self.body.addWidget(self.title)
        if prompt:
            self.prompt = label(prompt, self, "hint")
            self.body.addWidget(self.prompt)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.body.addLayout(self.form)
        self.error = label("", self, "error")
        self.error.setAccessibleName("Problem")
        self.buttons = QDialogButtonBox(self)
        self.ok = QPushButton(ok_text, self)
        self.ok.setObjectName("primary")
        self.ok.setAccessibleName(ok_text)
        self.ok.setDefault(True)
        self.cancel = QPushButton("Cancel", self)
        self.cancel.setAccessibleName("Cancel")
        self.buttons.addButton(self.ok, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel, QDialogButtonBox.ButtonRole.RejectRole)
        self.ok.clicked.connect(self.try_save)
        self.cancel.clicked.connect(self.reject)

    def finish(self) -> None:
        self.body.addWidget(self.error)
        self.body.addWidget(self.buttons)

    def save(self) -> None:
        raise NotImplementedError

    def after_save(self) -> None:
        """Called after a successful save; closes the form unless overridden."""
        self.accept()

    def show_problem(self, text: str) -> None:
        self.error.setText(text)

    def try_save(self) -> bool:
        self.error.setText("")
        try:
            self.save()
        except (ClinicError, PermissionDenied) as exc:
            self.show_problem(str(exc))
            return False
        except Exception as exc:  # a bug must not lose what was typed, nor show a traceback
            log.exception("%s: not saved", self.windowTitle())
            self.show_problem(f"Not saved: {exc}. What you typed is still here; the problem is in the log.")
            return False
        self.after_save()
        return True
