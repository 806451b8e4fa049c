"""Patients and courses, as a supervisor manages them: find or create a patient, edit them,
open a course (the safety screening follows at once), record a motor threshold, clear a
contraindication, enter outcome measures, close the course with a reason.

Buttons a person's role cannot use are disabled, but the rule is the
domain's: every action checks the permission again before it writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.clinic import records as clinic
from console.clinic.outcomes import Phq9Result
from console.people.permissions import allowed, who_may
from console.people.user import User
from console.safety import screening
from console.safety.start_gate import holds_to_review, prescription_problems
from console.store import Store
from console.ui.clinic.course_editor import CloseCourseDialog, CourseEditorDialog
from console.ui.clinic.hold_review_dialog import HoldReviewDialog
from console.ui.clinic.mt_dialog import MtDialog
from console.ui.clinic.patient_dialog import PatientDialog
from console.ui.clinic.patient_summary import PatientSummary, protocol_name
from console.ui.clinic.phq9_dialog import Phq9Dialog, RatingTotalDialog
from console.ui.clinic.screening_dialog import ClearanceDialog, ScreeningDialog
from console.ui.widgets.form_dialog import label

log = logging.getLogger(__name__)

COLUMNS = ("Clinic id", "Name", "Date of birth", "Course")
NAME_COLUMN = 1
ROLE_PATIENT_ID = Qt.ItemDataRole.UserRole


class PatientsPage(QWidget):
    def __init__(self, db: Store, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.user = db, user
        self.dialog: QWidget | None = None
        self.patient_ids: list[int] = []
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(label("Patients and courses", self, "screenTitle", wrap=False))
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search by clinic id or name")
        self.search.setAccessibleName("Search patients")
        self.search.textChanged.connect(self.refresh)
        top.addWidget(self.search, 1)
        self.new_patient = self._button("New patient", self.create_patient, "manage_patients", top)
        outer.addLayout(top)
        body = QHBoxLayout()
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Patients")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        # Names are always shown whole (a wrong-patient choice is the risk, issue 20 item 8): the name
        # column takes the width of the longest name and the course column gives way (and can be widened).
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        # A list in a known order (by name until a header is clicked), with the indicator showing
        # which column orders it (issue 20, item 20).
        self.table.setSortingEnabled(True)
        header.setSortIndicatorShown(True)
        self.table.sortItems(NAME_COLUMN, Qt.SortOrder.AscendingOrder)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        body.addWidget(self.table, 5)
        right = QVBoxLayout()
        self.summary = PatientSummary(db, self)
        right.addWidget(self.summary, 1)
        grid = QGridLayout()
        # not "actions": that would hide QWidget.actions()
        self.action_buttons = {
            "edit": self._button("Edit patient", self.edit_patient, "manage_patients"),
            "open_course": self._button("Open course", self.open_course, "manage_patients"),
            "screening": self._button("Safety screening", self.open_screening, "record_screening"),
            "clearance": self._button("Physician review", self.clear, "clear_screening"),
            "hold_review": self._button("Hold review", self.review_hold, "review_hold"),
            "mt": self._button("Motor threshold", self.record_mt, "record_session"),
            "phq9": self._button("PHQ-9", self.enter_phq9, "record_outcome"),
            "rating": self._button("HAM-D / MADRS", self.enter_rating, "record_outcome"),
            "close_course": self._button("Close course", self.close_course, "manage_patients"),
        }
        for n, button in enumerate(self.action_buttons.values()):
            grid.addWidget(button, n // 4, n % 4)
        right.addLayout(grid)
        body.addLayout(right, 5)
        outer.addLayout(body, 1)
        self.message = label("", self, "error")
        outer.addWidget(self.message)
        # What was just saved, in words: a form that closes says nothing by itself (issue 20, item 14).
        self.feedback = label("", self, "hint")
        self.feedback.setAccessibleName("Saved")
        outer.addWidget(self.feedback)
        self.refresh()

    def _button(self, text: str, slot, action: str, layout: QHBoxLayout | None = None) -> QPushButton:
        button = QPushButton(text, self)
        button.setAccessibleName(text)
        button.setProperty("action", action)
        button.clicked.connect(slot)
        if layout is not None:
            layout.addWidget(button)
        button.setEnabled(allowed(self.user, action))
        return button

    # ------------------------------------------------------------------ list
    def refresh(self) -> None:
        selected = self.selected_patient_id()
        patients = clinic.search_patients(self.db, self.search.text(), limit=200)
        self.table.blockSignals(True)
        self.table.setSortingEnabled(False)  # rows stay where they are put while filling
        self.table.setRowCount(len(patients))
        for row, p in enumerate(patients):
            course = clinic.active_course(self.db, p.id)
            values = (
                p.clinic_id,
                p.name,
                p.date_of_birth or "",
                f"{protocol_name(course.protocol)} (open)" if course else "—",
            )
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(ROLE_PATIENT_ID, p.id)
                self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)
        self.patient_ids = [self._row_patient(row) for row in range(self.table.rowCount())]
        self.table.blockSignals(False)
        if selected in self.patient_ids:
            self.table.selectRow(self.patient_ids.index(selected))
        self._selection_changed()

    def _row_patient(self, row: int) -> int:
        item = self.table.item(row, 0)
        return int(item.data(ROLE_PATIENT_ID)) if item is not None else -1

    def selected_patient_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self._row_patient(rows[0].row()) if rows else None

    def select_patient(self, patient_id: int) -> None:
        self.patient_ids = [self._row_patient(row) for row in range(self.table.rowCount())]
        if patient_id not in self.patient_ids:
            self.search.blockSignals(True)
            self.search.clear()
            self.search.blockSignals(False)
            self.refresh()  # also finds a patient added since the list was read
        if patient_id in self.patient_ids:
            self.table.selectRow(self.patient_ids.index(patient_id))

    def _selection_changed(self) -> None:
        patient_id = self.selected_patient_id()
        course = clinic.active_course(self.db, patient_id) if patient_id else None
        needs_clearance = patient_id is not None and any(
            screening.REVIEW_PHRASE in b for b in screening.course_start_blockers(self.db, patient_id)
        )
        enabled = {
            "edit": patient_id is not None,
            "open_course": patient_id is not None and course is None,
            "screening": patient_id is not None,
            "clearance": needs_clearance,
            "hold_review": patient_id is not None and bool(holds_to_review(self.db, patient_id)),
            "mt": patient_id is not None,
            "phq9": course is not None,
            "rating": course is not None,
            "close_course": course is not None,
        }
        for key, button in self.action_buttons.items():
            button.setEnabled(enabled[key] and allowed(self.user, button.property("action")))
        if patient_id is None:
            self.summary.clear()
        else:
            try:
                self.summary.show_patient(patient_id)
            except Exception as exc:
                log.exception("patient summary failed")
                self.message.setText(f"The patient's record could not be shown in full: {exc}")

    # --------------------------------------------------------------- dialogs
    def _open(self, dialog: QDialog, signal: SignalInstance,
              then: Callable[..., object] | None = None) -> QDialog:
        self.message.setText("")
        self.feedback.setText("")
        self.dialog = dialog
        signal.connect(then or (lambda *_: self.refresh()))
        dialog.open()
        return dialog

    def create_patient(self) -> None:
        dialog = PatientDialog(self.db, self.user, parent=self)
        self._open(dialog, dialog.saved, self._patient_saved)

    def edit_patient(self) -> None:
        patient_id = self.selected_patient_id()
        if patient_id is not None:
            dialog = PatientDialog(self.db, self.user, clinic.get_patient(self.db, patient_id), parent=self)
            self._open(dialog, dialog.saved, self._patient_saved)

    def _patient_saved(self, patient: clinic.Patient) -> None:
        self.refresh()
        self.select_patient(patient.id)

    def open_course(self) -> None:
        patient_id = self.selected_patient_id()
        if patient_id is not None:
            dialog = CourseEditorDialog(self.db, self.user, patient_id, parent=self)
            self._open(dialog, dialog.opened, self._course_opened)

    def _course_opened(self, course: clinic.Course) -> None:
        """The safety screening follows the opening of a course, unless a valid one is on file,
        and only for someone who may record it: never a form the person cannot save (issue 20,
        item 18); the others are told who records it."""
        self.refresh()
        needed = any(
            "No safety screening" in b or "screen again" in b
            for b in screening.course_start_blockers(self.db, course.patient_id)
        )
        if not needed:
            self.feedback.setText("Course opened.")
        elif allowed(self.user, "record_screening"):
            dialog = ScreeningDialog(self.db, self.user, course.patient_id, course.id, parent=self)
            self._open(dialog, dialog.saved)
        else:
            self.feedback.setText(
                f"Course opened. The safety screening comes next: {who_may('record_screening')} "
                "records it (Safety screening, on the Patients screen or at the Chair) before the "
                "first session."
            )

    def open_screening(self) -> None:  # not screen(): that is QWidget's
        patient_id = self.selected_patient_id()
        if patient_id is not None:
            course = clinic.active_course(self.db, patient_id)
            dialog = ScreeningDialog(
                self.db, self.user, patient_id, course.id if course else None, parent=self
            )
            self._open(dialog, dialog.saved)

    def clear(self) -> None:
        patient_id = self.selected_patient_id()
        if patient_id is not None:
            dialog = ClearanceDialog(self.db, patient_id, parent=self)
            dialog.username.setText(self.user.username if allowed(self.user, "clear_screening") else "")
            self._open(dialog, dialog.cleared)

    def review_hold(self) -> None:
        """A physician lifts a hold on the course (a seizure, an overdue MT): issue 14, items 6, 8."""
        patient_id = self.selected_patient_id()
        if patient_id is not None:
            dialog = HoldReviewDialog(self.db, self.user, patient_id, parent=self)
            self._open(dialog, dialog.signed)

    def record_mt(self) -> None:
        patient_id = self.selected_patient_id()
        if patient_id is not None:
            dialog = MtDialog(self.db, self.user, patient_id, parent=self)
            self._open(dialog, dialog.recorded, self._mt_recorded)

    def _mt_recorded(self, mt: clinic.MotorThreshold) -> None:
        """Say what was saved and what it gives, with the chair's objections if any."""
        self.refresh()
        text = f"Motor threshold saved: {mt.mso:g} % MSO."
        course = clinic.active_course(self.db, mt.patient_id)
        if course is not None:
            rx = clinic.prescription(self.db, course.id)
            text += f" Prescription: {rx.percent_mt:g} % MT = {rx.mso} % MSO."
            problems = prescription_problems(course, mt.mso)
            if problems:
                self.message.setText("\n".join(problems))
        self.feedback.setText(text)

    def _course(self) -> clinic.Course | None:
        patient_id = self.selected_patient_id()
        return clinic.active_course(self.db, patient_id) if patient_id else None

    def enter_phq9(self) -> None:
        course = self._course()
        if course is not None:
            dialog = Phq9Dialog(self.db, self.user, course.patient_id, course.id, parent=self)
            self._open(dialog, dialog.saved, self._phq9_saved)

    def _phq9_saved(self, result: Phq9Result) -> None:
        self.refresh()
        self.feedback.setText(f"PHQ-9 saved: total {result.total} ({result.severity}).")

    def enter_rating(self) -> None:
        course = self._course()
        if course is not None:
            dialog = RatingTotalDialog(self.db, self.user, course.patient_id, course.id, parent=self)
            self._open(dialog, dialog.saved, self._rating_saved)

    def _rating_saved(self, _outcome_id: int) -> None:
        self.refresh()
        self.feedback.setText("Clinician rating saved.")

    def close_course(self) -> None:
        course = self._course()
        if course is not None:
            dialog = CloseCourseDialog(self.db, self.user, course, parent=self)
            self._open(dialog, dialog.closed)
