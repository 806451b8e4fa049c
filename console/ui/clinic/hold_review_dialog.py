"""The physician's signed review that lifts a hold on a course: a seizure, an overdue motor
threshold, a motor threshold not re-measured after a change of medication (issue 14, items 6, 8).

Opened from the Patients screen ("Hold review"), next to the screening's physician review. It
lists what holds the patient's next session, the physician picks one, writes the decision, and
signs with their user name and password; the domain checks who may sign.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from console.clinic import records as clinic
from console.errors import ClinicError
from console.people.permissions import who_may
from console.people.user import User, get_user
from console.safety.start_gate import HoldToReview, holds_to_review, sign_hold_review
from console.store import Store
from console.ui.widgets.form_dialog import FormDialog, label

_WHAT = {
    "seizure_hold": "Seizure",
    "checklist_hold": "Checklist answer for a physician",
    "mt_overdue": "Motor threshold overdue",
    "mt_medication": "Medication changed since the motor threshold",
}


class HoldReviewDialog(FormDialog):
    """``signed(review_id)`` once the physician's review is recorded."""

    signed = Signal(int)

    def __init__(self, db: Store, user: User, patient_id: int, parent: QWidget | None = None) -> None:
        patient = clinic.get_patient(db, patient_id)
        self.holds: list[HoldToReview] = holds_to_review(db, patient_id)
        super().__init__(
            f"Hold review — {patient.clinic_id} {patient.initials}",
            "The course is on hold until a physician has reviewed what is listed here."
            if self.holds else "Nothing holds this patient's next session.",
            parent,
            ok_text="Sign review",
        )
        self.db, self.patient_id = db, patient_id
        self.review_id = 0
        self.setMinimumWidth(640)
        self.hold = QComboBox(self)
        self.hold.setAccessibleName("What to review")
        for hold in self.holds:
            self.hold.addItem(_WHAT.get(hold.kind, hold.kind))
        self.detail = label("", self, "warning")
        self.detail.setAccessibleName("Why the course is on hold")
        self.hold.currentIndexChanged.connect(self._show_detail)
        self.username = QLineEdit(self)
        self.username.setAccessibleName("Physician's user name")
        self.username.setText(user.username if user.role == "physician" else "")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Physician's password")
        self.decision = QLineEdit(self)
        self.decision.setPlaceholderText("the decision: go on as prescribed, change the prescription, stop")
        self.decision.setAccessibleName("Physician's decision")
        self.form.addRow("Review", self.hold)
        self.form.addRow("", self.detail)
        self.form.addRow("Physician", self.username)
        self.form.addRow("Password", self.password)
        self.form.addRow("Decision", self.decision)
        self.body.addWidget(label(
            f"Only {who_may('review_hold')} can sign. Signing records your name, the time and the "
            "decision with the patient's record and the audit log, and lifts this hold.", self, "hint"))
        self._show_detail()
        self.finish()
        self.ok.setEnabled(bool(self.holds))
        (self.username if not self.username.text() else self.password).setFocus()

    def _show_detail(self) -> None:
        index = self.hold.currentIndex()
        self.detail.setText(self.holds[index].message if 0 <= index < len(self.holds) else "")

    def save(self) -> None:
        index = self.hold.currentIndex()
        if not 0 <= index < len(self.holds):
            raise ClinicError("Choose what to review.")
        name = self.username.text().strip()
        if not name:
            raise ClinicError("Type the physician's user name.")
        physician = get_user(self.db, name)
        if physician is None:
            raise ClinicError(f"There is no user named {name!r}.")
        try:
            self.review_id = sign_hold_review(self.db, physician, self.password.text(), self.patient_id,
                                              self.holds[index], self.decision.text())
        finally:
            self.password.clear()

    def after_save(self) -> None:
        self.signed.emit(self.review_id)
        self.accept()
