"""Record a motor threshold: value in % MSO, EMG or visible twitch, when; shows what follows from it."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import QButtonGroup, QDateTimeEdit, QHBoxLayout, QLineEdit, QRadioButton, QWidget

from console.clinic import patient_records
from console.clinic import records as clinic
from console.clinic.motor_threshold import measurements, validate_mt
from console.errors import ClinicError
from console.people.user import User
from console.safety.start_gate import prescription_problems
from console.store import Store
from console.ui.widgets.form_dialog import FormDialog, label, restyle


class MtDialog(FormDialog):
    """``recorded(motor_threshold)`` once stored; the prescription follows the latest MT."""

    recorded = Signal(object)

    def __init__(
        self, db: Store, user: User, patient_id: int, parent: QWidget | None = None
    ) -> None:
        patient = clinic.get_patient(db, patient_id)
        super().__init__(
            f"Motor threshold — {patient.clinic_id} {patient.initials}",
            "Resting motor threshold in % of the stimulator's maximum output.",
            parent,
        )
        self.db, self.user, self.patient_id = db, user, patient_id
        self.result_mt: clinic.MotorThreshold | None = None
        self.value = QLineEdit(self)
        self.value.setPlaceholderText("e.g. 48")
        self.value.setAccessibleName("Motor threshold in % MSO")
        self.emg = QRadioButton("EMG", self)
        self.visual = QRadioButton("Visible twitch", self)
        self.emg.setChecked(True)
        self.methods = QButtonGroup(self)
        self.methods.addButton(self.emg)
        self.methods.addButton(self.visual)
        row = QHBoxLayout()
        row.addWidget(self.emg)
        row.addWidget(self.visual)
        row.addStretch(1)
        self.measured = QDateTimeEdit(QDateTime.currentDateTime(), self)
        self.measured.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.measured.setCalendarPopup(True)
        self.measured.setAccessibleName("Measured at")
        # The stimulator and coil it is measured on: an MT holds for that coil type only (issue 14,
        # item 6); the latest measurement's are filled in, since most clinics keep one.
        last = clinic.latest_motor_threshold(db, patient_id)
        self.device = QLineEdit(last.device_model or "" if last else "", self)
        self.device.setPlaceholderText("e.g. the stimulator's model")
        self.device.setAccessibleName("Stimulator")
        self.coil = QLineEdit(last.coil_type or "" if last else "", self)
        self.coil.setPlaceholderText("e.g. figure-8, H-coil")
        self.coil.setAccessibleName("Coil type")
        self.form.addRow("% MSO", self.value)
        self.form.addRow("Method", row)
        self.form.addRow("Measured", self.measured)
        self.form.addRow("Stimulator", self.device)
        self.form.addRow("Coil type", self.coil)
        self._flagged = False
        self.context = label(self._context(), self, "hint")
        self.body.addWidget(self.context)
        self.value.textChanged.connect(self._update_context)
        self.finish()
        self.value.setFocus()

    def _context(self, typed: float | None = None) -> str:
        """What the typed value means: the previous MT, a change over 10 %, the prescription."""
        mts = measurements(self.db, self.patient_id)
        lines = []
        if mts:
            last = mts[0]
            on = ", ".join(x for x in (last.device_model, last.coil_type and f"{last.coil_type} coil") if x)
            lines.append(f"Previous: {last.mso:g} % MSO ({last.method}, {last.measured_at[:10]}"
                         f"{', ' + on if on else ''}).")
            if typed is not None and last.mso > 0:
                change = (typed - last.mso) / last.mso * 100
                if abs(change) > 10:
                    self._flagged = True
                    lines.append(f"This is {change:+.0f} % from the previous one: more than 10 %, check it.")
        else:
            lines.append("No earlier measurement.")
        course = clinic.active_course(self.db, self.patient_id)
        if course is not None and typed is not None:
            mso = clinic.prescribed_mso(typed, course.percent_mt)
            lines.append(f"Prescription: {course.percent_mt:g} % MT = {mso} % MSO.")
            # The chair's own objections, said here where the MT is typed (issue 20, item 3).
            problems = prescription_problems(course, typed)
            if problems:
                self._flagged = True
                lines.append("At this motor threshold the sessions cannot start as prescribed:")
                lines += [f"• {p}" for p in problems]
                lines.append("Check the measurement; a supervisor reviews the course's % MT "
                             "(Patients screen) if it is right.")
        return "\n".join(lines)

    def _update_context(self, text: str) -> None:
        self._flagged = False
        typed: float | None = None
        problem = ""
        if text.strip():
            try:
                typed = validate_mt(text)
            except ClinicError as exc:  # said at once, never taken as some other number
                problem = str(exc)
        context = self._context(typed)
        self.context.setText(f"{problem}\n{context}" if problem else context)
        restyle(self.context, "warning" if self._flagged or problem else "hint")
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to show every line of the context: a dialog keeps the height it opened with, and
        wrapped lines would be cut off or drawn over the fields."""
        needed = self.body.totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    def save(self) -> None:
        when = self.measured.dateTime().toPython()
        if not isinstance(when, datetime):
            raise ClinicError("Enter when the threshold was measured.")
        method = "EMG" if self.emg.isChecked() else "visual"
        self.result_mt = patient_records.record_motor_threshold(
            self.db, self.user, self.patient_id, self.value.text(), method, when,
            device_model=self.device.text(), coil_type=self.coil.text(),
        )

    def after_save(self) -> None:
        self.recorded.emit(self.result_mt)
        self.accept()
