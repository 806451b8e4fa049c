"""The dialogs of the start procedure: each asks the person for one override and hands the
answer to the procedure (console.session.start_procedure), which records it.

- before the session exists (at "Begin session"): a physician's signed override
  of the clinic's safety limits (issue 14, items 1 and 7), a physician's signature for a
  session beyond the day's plan, a reason to start sooner than the schedule;
- at Start, with the device connected: a reason to go on with the device's
  intensity rather than the prescription.

No rule lives here: what needs an override, and in which words, is the start
gate's (console.safety.start_gate), the same for the chair and ``record``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from console.resource_data import lists as clinic_lists
from console.ui.chair.session_dialogs import ReasonDialog, _Dialog

log = logging.getLogger(__name__)

Sign = Callable[[str, str, str], int]
"""(user name, password, reason) -> the recorded override's id; raises, in words, when refused."""


def not_started_reasons() -> list[str]:
    return clinic_lists.not_started_reasons()


def early_start_reasons() -> list[str]:
    """Why a session starts sooner than the course schedule allows (the clinic's list)."""
    return clinic_lists.early_start_reasons()


def override_reasons() -> list[str]:
    return clinic_lists.override_reasons()


class PhysicianOverrideDialog(_Dialog):
    """A physician signs (user name and password) an override of the safety limits, with the reason
    (issue 14: a clinical decision, the physician's, not the lead technician's).
    ``signed(override_id)`` once recorded; a refusal is shown in the dialog."""

    signed = Signal(int)

    def __init__(self, problems: Sequence[str], sign: Sign, parent: QWidget | None = None) -> None:
        listed = "\n".join(f"• {p}" for p in problems)
        super().__init__(
            "Outside the clinic's safety limits",
            f"{listed}\n\nThis session may start only with a physician's signed override.",
            parent,
        )
        self.sign = sign
        self._override_id = 0
        self.username = QLineEdit(self)
        self.username.setPlaceholderText("Physician's user name")
        self.username.setAccessibleName("Physician's user name")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Physician's password")
        self.password.setAccessibleName("Physician's password")
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("Reason for the override")
        self.reason.setAccessibleName("Reason for the override")
        meaning = QLabel("Signing records your name, the time and the reason with this session.", self)
        meaning.setObjectName("hint")
        meaning.setWordWrap(True)
        for widget in (self.username, self.password, self.reason, meaning):
            self.layout_.addWidget(widget)
        self.finish_layout()
        self.username.setFocus()

    def problem(self) -> str | None:
        if not self.username.text().strip():
            return "Type the physician's user name."
        if not self.reason.text().strip():
            return "Give the reason for the override."
        try:
            self._override_id = self.sign(self.username.text().strip(), self.password.text(),
                                          self.reason.text())
        except Exception as exc:  # unknown user, wrong password, not a physician, locked: said plainly
            log.info("safety override refused: %s", exc)
            self.password.clear()
            return str(exc)
        return None

    def emit_submitted(self) -> None:
        self.signed.emit(self._override_id)


def early_start_dialog(problem: str, parent: QWidget | None) -> ReasonDialog:
    """Ask for the reason to start sooner than the course schedule allows (the gate's words)."""
    return ReasonDialog("Sooner than the schedule", f"{problem}\nStart anyway? Why?", early_start_reasons(),
                        parent)


def intensity_dialog(problem: str, percent_mt: float | None, mt_mso: float | None,
                     parent: QWidget | None) -> ReasonDialog:
    """Ask for the reason to go on with a device intensity other than the prescription."""
    of_mt = f" (the prescription is {percent_mt:g} % of the motor threshold {mt_mso:g} % MSO)" \
        if percent_mt and mt_mso else ""
    return ReasonDialog(
        "Intensity differs from the prescription",
        f"{problem}{of_mt}\n"
        "Start at the device's setting only with a reason; it is kept with the session.",
        override_reasons(),
        parent,
    )


def physician_extra_session_dialog(
    problems: Sequence[str], sign: Sign, parent: QWidget | None = None
) -> PhysicianOverrideDialog:
    """A session beyond the day's plan: a physician signs (user name and password) with the reason
    (issue 14, item 10). The override dialog, in the words of a session beyond the plan."""
    dialog = PhysicianOverrideDialog(problems, sign, parent)
    title = "A session beyond the day's plan"
    dialog.setWindowTitle(title)
    dialog.setAccessibleName(title)
    listed = "\n".join(f"• {p}" for p in problems)
    dialog.prompt.setText(f"{listed}\n\nThis session may start only with a physician's signed override.")
    for field, words in ((dialog.username, "Physician's user name"),
                         (dialog.password, "Physician's password"),
                         (dialog.reason, "Physician's reason for the extra session")):
        field.setPlaceholderText(words)
        field.setAccessibleName(words)
    return dialog
