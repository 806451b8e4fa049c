"""Create or edit a patient: clinic id (unique), name, date of birth."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QWidget

from console.clinic import patient_records
from console.clinic.records import Patient
from console.people.user import User
from console.store import Store
from console.ui.widgets.form_dialog import FormDialog


class PatientDialog(FormDialog):
    """``saved(patient)`` once created or changed (audited by the domain)."""

    saved = Signal(object)

    def __init__(
        self,
        db: Store,
        user: User,
        patient: Patient | None = None,
        parent: QWidget | None = None,
    ) -> None:
        title = "New patient" if patient is None else f"Edit patient {patient.clinic_id}"
        super().__init__(title, "The clinic id must be unique; capitals do not make a new id.", parent)
        self.db, self.user, self.patient = db, user, patient
        self.result_patient: Patient | None = None
        self.clinic_id = QLineEdit(self)
        self.clinic_id.setAccessibleName("Clinic id")
        self.name = QLineEdit(self)
        self.name.setAccessibleName("Full name")
        self.date_of_birth = QLineEdit(self)
        self.date_of_birth.setPlaceholderText("YYYY-MM-DD")
        self.date_of_birth.setAccessibleName("Date of birth")
        self.form.addRow("Clinic id", self.clinic_id)
        self.form.addRow("Name", self.name)
        self.form.addRow("Date of birth", self.date_of_birth)
        if patient is not None:
            self.clinic_id.setText(patient.clinic_id)
            self.name.setText(patient.name)
            self.date_of_birth.setText(patient.date_of_birth or "")
        self.finish()
        self.clinic_id.setFocus()

    def save(self) -> None:
        dob = self.date_of_birth.text().strip() or None
        if self.patient is None:
            self.result_patient = patient_records.create_patient(
                self.db, self.user, self.clinic_id.text(), self.name.text(), dob
            )
        else:
            self.result_patient = patient_records.update_patient(
                self.db,
                self.user,
                self.patient.id,
                clinic_id=self.clinic_id.text(),
                name=self.name.text(),
                date_of_birth=dob,
            )

    def after_save(self) -> None:
        self.saved.emit(self.result_patient)
        self.accept()
