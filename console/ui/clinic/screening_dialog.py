"""The TMS safety screening as a form, and the physician's signed review of its "yes" answers.

Every question is answered yes or no (nothing is pre-ticked, so an
unanswered question cannot pass as "no"). A "yes" shows its note field and
asks for the note; every "yes" is recorded, and the course then waits for a
physician's signed risk/benefit review (:class:`ClearanceDialog`, Rossi 2011);
an item the clinic lists as an absolute contraindication says so.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QFrame,
    QGridLayout,
    QLineEdit,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.clinic import records as clinic
from console.people.permissions import who_may
from console.people.user import User, full_names, get_user
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
                    "Absolute contraindication on the clinic's list: a yes blocks the "
                    "course until a physician clears it",
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
            "Ask each question and record the answer. A yes needs a note, and a physician's "
            "signed review before the course starts.",
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
    """The physician's signed review of the screening's "yes" answers: each answer with its note,
    the risk/benefit decision, the physician's user name and password (issue 14, item 4).
    ``cleared(clearance_id)`` once recorded."""

    cleared = Signal(int)

    def __init__(self, db: Store, patient_id: int, parent: QWidget | None = None) -> None:
        patient = clinic.get_patient(db, patient_id)
        screened, self.items = screening.review_items(db, patient_id)
        super().__init__(
            f"Physician review — {patient.clinic_id} {patient.initials}",
            "Every yes in the safety screening needs the treating physician's risk/benefit "
            "decision before the course starts (Rossi et al. 2011)."
            if self.items else "Nothing in the screening is waiting for a physician's review.",
            parent,
            ok_text="Sign review",
        )
        self.db, self.patient_id = db, patient_id
        self.clearance_id = 0
        self.setMinimumWidth(640)
        if screened is not None:
            by = full_names(db).get(screened.by_user, screened.by_user)
            self.body.addWidget(label(f"Screening of {screened.at[:10]}, recorded by {by}:", self))
        for item in self.items:
            self.body.addWidget(self._item_box(item))
        others = [b for b in screening.course_start_blockers(db, patient_id)
                  if screening.REVIEW_PHRASE not in b]
        if others:
            self.body.addWidget(label("Also still to do (not cleared by this review):\n"
                                      + "\n".join(f"• {b}" for b in others), self, "hint"))
        self.username = QLineEdit(self)
        self.username.setAccessibleName("Physician's user name")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Physician's password")
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("the decision and what it rests on (e.g. a neurology letter)")
        self.reason.setAccessibleName("Risk/benefit decision")
        fields = QFormLayout()  # below the answers it signs for (the dialog's own form is above them)
        fields.addRow("Physician", self.username)
        fields.addRow("Password", self.password)
        fields.addRow("Risk/benefit decision", self.reason)
        self.body.addLayout(fields)
        self.body.addWidget(
            label(
                f"Only {who_may('clear_screening')} can sign. Signing records your name, the time and "
                "the decision with the patient's record and the audit log, and clears these answers "
                "for this course.",
                self,
                "hint",
            )
        )
        self.finish()
        self.username.setFocus()

    def _item_box(self, item: screening.ReviewItem) -> QWidget:
        box = QFrame(self)
        box.setObjectName("reviewItem")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addWidget(label(item.question, box))
        answer = f"Answered yes. Note: {item.note}" if item.note else "Answered yes, without a note."
        layout.addWidget(label(answer, box, "hint"))
        if item.absolute:
            layout.addWidget(label("Absolute contraindication on the clinic's list.", box, "warning"))
        return box

    def save(self) -> None:
        name = self.username.text().strip()
        if not name:
            raise ScreeningError("Type the physician's user name.")
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


PhysicianReviewDialog = ClearanceDialog
"""The same form, by what it is."""
