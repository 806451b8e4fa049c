"""The checks before a session may start, each answered in a dialog and recorded:

- before the session exists (at "Begin session"): the protocol against the
  clinic's safety limits (outside them: a supervisor's signed override), and
  the course schedule (too soon or an extra session: a recorded reason);
- at Start, with the device connected: the device's intensity against the
  prescription (different: an explicit override with a recorded reason).

The rules are the domain's (console.safety.limits, console.safety.schedule); this
module only asks the person and hands the answers to those functions.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlite_utils
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from console.people.user import get_user
from console.safety.limits import LimitViolation, check_protocol, load_limits, record_override
from console.safety.overrides import Scope
from console.safety.schedule import EarlyStart, early_start_check
from console.ui.chair.session_dialogs import ReasonDialog, _Dialog
from resources import load_json

log = logging.getLogger(__name__)


def limit_violations(protocol, percent_mt: float | None, mso: int | None) -> list[LimitViolation]:
    """The protocol at the prescription against the clinic's limits (empty: within them)."""
    if protocol is None or percent_mt is None or mso is None:
        return []
    return check_protocol(load_limits(), protocol, percent_mt, mso)


def early_start(db: sqlite_utils.Database, course_id: int | None) -> EarlyStart | None:
    if course_id is None:
        return None
    return early_start_check(db, course_id, datetime.now().astimezone())


def not_started_reasons() -> list[str]:
    return list(load_json("session_lists.json").get("not_started_reasons", [])) or ["Other"]


def early_start_reasons() -> list[str]:
    """Why a session starts sooner than the course schedule allows (the clinic's list)."""
    return list(load_json("session_lists.json").get("early_start_reasons", [])) or ["Other"]


def override_reasons() -> list[str]:
    return list(load_json("session_lists.json").get("override_reasons", []))


class SupervisorOverrideDialog(_Dialog):
    """A supervisor signs (user name and password) an override of the safety limits, with the reason.
    ``signed(override_id)`` once recorded; a refusal is shown in the dialog."""

    signed = Signal(int)

    def __init__(self, db: sqlite_utils.Database, course_id: int, violations: list[LimitViolation],
                 parent: QWidget | None = None) -> None:
        problems = "\n".join(f"• {v.message}" for v in violations)
        super().__init__(
            "Outside the clinic's safety limits",
            f"{problems}\n\nThis session may start only with a supervisor's signed override.",
            parent,
        )
        self.db = db
        self.course_id = course_id
        self.violations = violations
        self._override_id = 0
        self.username = QLineEdit(self)
        self.username.setPlaceholderText("Supervisor's user name")
        self.username.setAccessibleName("Supervisor's user name")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Supervisor's password")
        self.password.setAccessibleName("Supervisor's password")
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
            return "Type the supervisor's user name."
        if not self.reason.text().strip():
            return "Give the reason for the override."
        user = get_user(self.db, self.username.text().strip())
        if user is None:
            return "There is no user of that name."
        try:
            self._override_id = record_override(
                self.db, user, self.password.text(), Scope.course(self.course_id), self.violations,
                self.reason.text(),
            )
        except Exception as exc:  # wrong password, not a supervisor, locked account: said plainly
            log.info("safety override refused: %s", exc)
            self.password.clear()
            return str(exc)
        return None

    def emit_submitted(self) -> None:
        self.signed.emit(self._override_id)


def intensity_dialog(device_mso: int, prescribed_mso: int, percent_mt: float | None, mt_mso: float | None,
                     parent: QWidget | None) -> ReasonDialog:
    """Ask for the reason to go on with a device intensity other than the prescription."""
    of_mt = f" ({percent_mt:g} % of the motor threshold {mt_mso:g} % MSO)" if percent_mt and mt_mso else ""
    return ReasonDialog(
        "Intensity differs from the prescription",
        f"The device is set to {device_mso} % MSO; the prescription is {prescribed_mso} % MSO{of_mt}.\n"
        "Start at the device's setting only with a reason; it is kept with the session.",
        override_reasons(),
        parent,
    )
