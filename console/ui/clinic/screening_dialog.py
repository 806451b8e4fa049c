"""The TMS safety screening as a form, and a supervisor's signed clearance.

Every question is answered yes or no (nothing is pre-ticked, so an
unanswered question cannot pass as "no"). A "yes" shows its note field and
asks for the note; a "yes" to an item the clinic configured as an absolute
contraindication is recorded, and the course then waits for a supervisor's
signed clearance (:class:`ClearanceDialog`).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QLineEdit,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.clinic import records as clinic
from console.people.user import User, get_user
from console.safety import screening
from console.safety.screening import ScreeningError, ScreeningResult
from console.store import Store
from console.ui.widgets.form_dialog import FormDialog, label


class _ItemRow:
    def __init__(self, item: screening.Item, grid: QGridLayout, row: int, parent: QWidget) -> None:
        self.item = item
        self.question = QWidget(parent)
        text_box = QVBoxLayout(self.question)
        text_box.setContentsMargins(0, 0, 0, 0)
        text_box.setSpacing(0)
        text_box.addWidget(label(item.text, self.question))
        if item.absolute_contraindication:
            text_box.addWidget(
                label(
                    "Absolute contraindication on the clinic's list: a yes needs a "
                    "supervisor's signed clearance",
                    self.question,
                    "warning",
                )
            )
        self.yes = QRadioButton("Yes", parent)
        self.no = QRadioButton("No", parent)
        self.yes.setAccessibleName(f"Yes: {item.text}")
        self.no.setAccessibleName(f"No: {item.text}")
        self.group = QButtonGroup(parent)
        self.group.addButton(self.yes)
        self.group.addButton(self.no)
        self.note = QLineEdit(parent)
        self.note.setPlaceholderText("Note (what, when, details)")
        self.note.setAccessibleName(f"Note: {item.text}")
        self.note.setVisible(False)
        self.yes.toggled.connect(self.note.setVisible)
        grid.addWidget(self.question, row * 2, 0)
        grid.addWidget(self.yes, row * 2, 1)
        grid.addWidget(self.no, row * 2, 2)
        grid.addWidget(self.note, row * 2 + 1, 0, 1, 3)

    def answer(self) -> str | None:
        return "yes" if self.yes.isChecked() else "no" if self.no.isChecked() else None


class ScreeningDialog(FormDialog):
    """``saved(result)`` once recorded; when a clearance is needed the dialog says so and offers it."""

    saved = Signal(object)

    def __init__(
        self,
        db: Store,
        user: User,
        patient_id: int,
        course_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        patient = clinic.get_patient(db, patient_id)
        self.questionnaire = screening.load_questionnaire()
        super().__init__(
            f"Safety screening — {patient.clinic_id} {patient.initials}",
            "Ask each question and record the answer. A yes needs a note.",
            parent,
        )
        self.db, self.user, self.patient_id, self.course_id = db, user, patient_id, course_id
        self.result_screening: ScreeningResult | None = None
        self.setMinimumSize(760, 640)
        inner = QFrame(self)
        grid = QGridLayout(inner)
        grid.setColumnStretch(0, 1)
        self.rows = [_ItemRow(item, grid, n, inner) for n, item in enumerate(self.questionnaire.items)]
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        self.body.addWidget(scroll, 1)
        self.general_note = QLineEdit(self)
        self.general_note.setPlaceholderText("Anything else (optional)")
        self.general_note.setAccessibleName("General note")
        self.body.addWidget(self.general_note)
        self.source = label(f"Questionnaire: {self.questionnaire.source}", self, "hint")
        self.body.addWidget(self.source)
        self.finish()
        for row in self.rows:
            row.group.buttonToggled.connect(self._answered)
        self.rows[0].no.setFocus()

    def _unanswered_problem(self) -> str:
        unanswered = [r for r in self.rows if r.answer() is None]
        if not unanswered:
            return ""
        return (f"Answer every question: {len(unanswered)} not answered, the first is "
                f'"{unanswered[0].item.text}"')

    def _answered(self) -> None:
        """A count of unanswered questions shown after Save follows the answers as they are given,
        and goes once all are (issue 20, item 16: "14 not answered" stayed while answering)."""
        if self.error.text().startswith("Answer every question"):
            self.error.setText(self._unanswered_problem())

    def answers(self) -> tuple[dict[str, str], dict[str, str]]:
        answers, notes = {}, {}
        for row in self.rows:
            value = row.answer()
            if value is not None:
                answers[row.item.id] = value
            if row.note.text().strip():
                notes[row.item.id] = row.note.text().strip()
        return answers, notes

    def save(self) -> None:
        answers, notes = self.answers()
        if problem := self._unanswered_problem():
            raise ScreeningError(problem)
        for row in self.rows:
            if row.answer() == "yes" and not row.item.absolute_contraindication and row.item.id not in notes:
                row.note.setFocus()
                raise ScreeningError(f'Add a note to the yes for "{row.item.text}"')
        self.result_screening = screening.record_screening(
            self.db,
            self.user,
            self.patient_id,
            answers,
            notes,
            general_note=self.general_note.text(),
            course_id=self.course_id,
            questionnaire=self.questionnaire,
        )

    def after_save(self) -> None:
        self.saved.emit(self.result_screening)
        self.accept()


class ClearanceDialog(FormDialog):
    """A supervisor signs (user name, password) the clearance of an absolute contraindication,
    with the reason. ``cleared(clearance_id)`` once recorded."""

    cleared = Signal(int)

    def __init__(self, db: Store, patient_id: int, parent: QWidget | None = None) -> None:
        patient = clinic.get_patient(db, patient_id)
        blockers = screening.course_start_blockers(db, patient_id)
        super().__init__(
            f"Clearance — {patient.clinic_id} {patient.initials}",
            "\n".join(f"• {b}" for b in blockers) or "Nothing is waiting for clearance.",
            parent,
            ok_text="Sign clearance",
        )
        self.db, self.patient_id = db, patient_id
        self.clearance_id = 0
        self.prompt.setObjectName("warning")
        self.username = QLineEdit(self)
        self.username.setAccessibleName("Supervisor's user name")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Supervisor's password")
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("e.g. cardiology letter of 2026-02-01: device cleared for TMS")
        self.reason.setAccessibleName("Reason for the clearance")
        self.form.addRow("Supervisor", self.username)
        self.form.addRow("Password", self.password)
        self.form.addRow("Reason", self.reason)
        self.body.addWidget(
            label(
                "Signing records your name, the time and the reason with the patient's "
                "record and the audit log.",
                self,
                "hint",
            )
        )
        self.finish()
        self.username.setFocus()

    def save(self) -> None:
        name = self.username.text().strip()
        if not name:
            raise ScreeningError("Type the supervisor's user name.")
        user = get_user(self.db, name)
        if user is None:
            raise ScreeningError(f"There is no user named {name!r}.")
        try:
            self.clearance_id = screening.record_clearance(
                self.db, user, self.password.text(), self.patient_id, self.reason.text()
            )
        finally:
            self.password.clear()

    def after_save(self) -> None:
        self.cleared.emit(self.clearance_id)
        self.accept()
