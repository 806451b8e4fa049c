"""Start of day: pick the patient from today's list or by search (clinic id or
name) and see the course before the session: session n of N, protocol,
target, prescribed % MT and the device intensity it gives, and the motor
threshold's date with a warning when it is older than the clinic's
re-measure interval.

Keyboard: type to search, Down to the list, Enter to begin.

No dead ends: each blocker says who clears it and where, and the card offers
the action (record the MT, the screening, a clearance) when the person's role
may do it. A session a stop of the program interrupted is said on the card
before the next one begins.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.clinic import records as clinic
from console.people.permissions import allowed
from console.people.user import User
from console.safety.start_gate import Blocker
from console.session.course_overview import CourseOverview, InterruptedSession, overview_for, todays_patients
from console.store import Store
from console.ui.clinic.mt_dialog import MtDialog
from console.ui.clinic.screening_dialog import ClearanceDialog, ScreeningDialog
from console.ui.widgets.formatting import DASH

log = logging.getLogger(__name__)

CARD_REFRESH_MS = 30_000

ROLE_PATIENT = Qt.ItemDataRole.UserRole


OFFERS = (
    ("motor_threshold", "Record motor threshold…"),
    ("screening", "Safety screening…"),
    ("clearance", "Physician review…"),
)
"""What the card can open itself for a blocker (the remedy's ``offer``), and the button's words."""


def interrupted_words(found: InterruptedSession, next_number: int | None) -> str:
    """The card's words for an interrupted last session: what was given, and what Begin does."""
    following = f"session {next_number}" if next_number else "the next session"
    return (
        f"{found.name().capitalize()}, begun {found.when()}, was interrupted {found.given()}: the "
        f"program or the computer stopped. It cannot be continued; Begin starts {following} as a new "
        "session, and the schedule and the clinic's limits apply to it as to any other."
    )


def _local_date(iso: str | None) -> str:
    if not iso:
        return DASH
    return datetime.fromisoformat(iso).astimezone().strftime("%d %b %Y")


class CourseCard(QFrame):
    """The chosen patient's course, prescription and motor threshold, with warnings."""

    def __init__(self, parent: QWidget | None = None, user: User | None = None) -> None:
        super().__init__(parent)
        self.user = user
        self.setObjectName("panel")
        self.setAccessibleName("Course")
        self.name = QLabel("Choose a patient", self)
        self.name.setObjectName("screenTitle")
        self.name.setWordWrap(True)
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(8)
        self.fields: dict[str, QLabel] = {}
        for row, caption in enumerate(
            ("Session", "Protocol", "Target", "Prescription", "Motor threshold", "Tolerance")
        ):
            cap = QLabel(caption.upper(), self)
            cap.setObjectName("caption")
            value = QLabel(DASH, self)
            value.setObjectName("subValue")
            value.setWordWrap(True)
            value.setAccessibleName(caption)
            value.setTextFormat(Qt.TextFormat.PlainText)
            grid.addWidget(cap, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, row, 1)
            self.fields[caption] = value
        grid.setColumnStretch(1, 1)
        self.warnings = QLabel("", self)
        self.warnings.setObjectName("warning")
        self.warnings.setWordWrap(True)
        self.warnings.setAccessibleName("Warnings")
        self.blockers = QLabel("", self)
        self.blockers.setObjectName("error")
        self.blockers.setWordWrap(True)
        self.blockers.setAccessibleName("Cannot start")
        self.interrupted = QLabel("", self)
        self.interrupted.setObjectName("warning")
        self.interrupted.setWordWrap(True)
        self.interrupted.setAccessibleName("Interrupted session")
        self.offers: dict[str, QPushButton] = {}
        offers = QHBoxLayout()
        for key, text in OFFERS:
            button = QPushButton(text, self)
            button.setAccessibleName(text.rstrip("…"))
            button.setVisible(False)
            offers.addWidget(button)
            self.offers[key] = button
        offers.addStretch(1)
        self.begin = QPushButton("Begin session   Enter", self)
        self.begin.setObjectName("primary")
        self.begin.setAccessibleName("Begin session")
        self.begin.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 18)
        layout.setSpacing(14)
        layout.addWidget(self.name)
        layout.addLayout(grid)
        layout.addWidget(self.interrupted)
        layout.addWidget(self.warnings)
        layout.addWidget(self.blockers)
        layout.addLayout(offers)
        layout.addStretch(1)
        layout.addWidget(self.begin)

    def show_plan(self, plan: CourseOverview | None) -> None:
        if plan is None:
            self.name.setText("Choose a patient")
            for value in self.fields.values():
                value.setText(DASH)
            self.warnings.setText("")
            self.blockers.setText("")
            self.interrupted.setText("")
            self._show_offers([])
            self.begin.setEnabled(False)
            return
        p = plan.patient
        born = f", born {p.date_of_birth}" if p.date_of_birth else ""
        self.name.setText(f"{p.name}   ({p.clinic_id}{born})")
        course = plan.course
        f = self.fields
        if course is not None:
            f["Session"].setText(f"{plan.session_number} of {course.planned_sessions} ({course.schedule})")
            f["Protocol"].setText(plan.protocol.name if plan.protocol else course.protocol)
            method = f" ({course.targeting_method})" if course.targeting_method else ""
            f["Target"].setText(f"{course.target}{method}")
            rx = plan.prescription
            if rx is not None and rx.mso is not None:
                f["Prescription"].setText(f"{rx.percent_mt:g} % MT  =  {rx.mso} % MSO on the device")
            else:
                f["Prescription"].setText(f"{course.percent_mt:g} % MT (no device intensity without an MT)")
        else:
            for key in ("Session", "Protocol", "Target", "Prescription"):
                f[key].setText(DASH)
        if plan.mt is not None:
            age = "today" if plan.mt_age_days == 0 else f"{plan.mt_age_days} days ago"
            f["Motor threshold"].setText(
                f"{plan.mt.mso:g} % MSO by {plan.mt.method}, {_local_date(plan.mt.measured_at)} ({age})"
            )
        else:
            f["Motor threshold"].setText("none recorded")
        f["Tolerance"].setText(f"{plan.tol_distance_mm:g} mm and {plan.tol_angle_deg:g}°")
        self.warnings.setText("\n".join(f"⚠ {w}" for w in plan.warnings))
        blockers = list(plan.gate.blockers) if plan.gate is not None else []
        # Each blocker with who clears it and where (issue 20, item 17).
        self.blockers.setText("\n".join(b.with_remedy() for b in blockers) if blockers
                              else "\n".join(plan.blockers))
        self.interrupted.setText(
            f"⚠ {interrupted_words(plan.interrupted, plan.session_number)}" if plan.interrupted else ""
        )
        self._show_offers(blockers)
        self.begin.setEnabled(plan.can_start)

    def _show_offers(self, blockers: list[Blocker]) -> None:
        """Offer what this person may do about the blockers; the others are named in the text."""
        wanted = {
            b.remedy.offer for b in blockers
            if b.remedy is not None and b.remedy.action is not None and allowed(self.user, b.remedy.action)
        }
        for key, button in self.offers.items():
            button.setVisible(key in wanted)


class StartOfDay(QWidget):
    """Today's patients and a search; ``session_requested(plan)`` when the technician begins."""

    session_requested = Signal(object)  # CourseOverview

    def __init__(self, db: Store, parent: QWidget | None = None, user: User | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.user = user
        self.dialog: QWidget | None = None
        self.setAccessibleName("Start of day")
        self.plan: CourseOverview | None = None
        title = QLabel("Today's patients", self)
        title.setObjectName("screenTitle")
        self.date = QLabel(datetime.now().astimezone().strftime("%A %d %B %Y"), self)
        self.date.setObjectName("hint")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search by clinic id or name   (Ctrl+F)")
        self.search.setAccessibleName("Search patients by clinic id or name")
        self.search.setClearButtonEnabled(True)
        for button in self.search.findChildren(QToolButton):
            button.setAccessibleName("Clear the search")
        self.list = QListWidget(self)
        self.list.setAccessibleName("Patients")
        self.list.setMinimumWidth(360)
        self.empty = QLabel("", self)
        self.empty.setObjectName("hint")
        self.empty.setWordWrap(True)
        self.card = CourseCard(self, user)
        left = QVBoxLayout()
        left.addWidget(title)
        left.addWidget(self.date)
        left.addWidget(self.search)
        left.addWidget(self.list, 1)
        left.addWidget(self.empty)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.setSpacing(18)
        layout.addLayout(left, 2)
        layout.addWidget(self.card, 3)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self._search_entered)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.itemActivated.connect(self._activated)
        self.card.begin.clicked.connect(self.begin)
        self.card.offers["motor_threshold"].clicked.connect(self.record_mt)
        self.card.offers["screening"].clicked.connect(self.record_screening)
        self.card.offers["clearance"].clicked.connect(self.clear)
        QShortcut(QKeySequence("Ctrl+F"), self, self.search.setFocus)
        self.search.installEventFilter(self)
        # The card's facts move with the clock (an accelerated day's wait for the next
        # session counts down, an MT grows old at midnight): re-read them while shown.
        self._clock = QTimer(self)
        self._clock.setInterval(CARD_REFRESH_MS)
        self._clock.timeout.connect(self.refresh_card)
        self._clock.start()
        self._stopped = False
        self.refresh()

    def stop(self) -> None:
        """No more reads: the owner is closing the database (a search typed just before would
        otherwise fire its timer on a closed store)."""
        self._stopped = True
        self._debounce.stop()
        self._clock.stop()

    def showEvent(self, event) -> None:
        """Coming back to the screen (another tab recorded an MT or a screening meanwhile): the
        card is read again, never left stale until another patient is clicked (issue 20, item 19)."""
        super().showEvent(event)
        self.refresh_card()

    def refresh_card(self) -> None:
        """Re-read the chosen patient's facts (cheap: a few indexed queries)."""
        if self.isVisible() and not self._stopped:
            self._current_changed(self.list.currentItem(), None)

    def eventFilter(self, obj, event) -> bool:
        """Down arrow in the search field moves to the list."""
        if (obj is self.search and event.type() == event.Type.KeyPress
                and event.key() == Qt.Key.Key_Down and self.list.count()):
            self.list.setFocus()
            if self.list.currentRow() < 0:
                self.list.setCurrentRow(0)
            return True
        return super().eventFilter(obj, event)

    def refresh(self) -> None:
        """Today's list when the search is empty, else the search's matches."""
        if self._stopped:
            return
        text = self.search.text().strip()
        try:
            if text:
                entries: Sequence[tuple[clinic.Patient, bool | None]] = [
                    (p, None) for p in clinic.search_patients(self.db, text)
                ]
            else:
                entries = todays_patients(self.db)
        except Exception as exc:  # the screen stays usable and says what went wrong
            log.exception("patient list failed")
            self.empty.setText(f"The patient list could not be read: {exc}")
            return
        self.list.blockSignals(True)
        self.list.clear()
        for patient, seen in entries:
            mark = "   ✓ treated today" if seen else ""
            item = QListWidgetItem(f"{patient.clinic_id}    {patient.name}{mark}")
            item.setData(ROLE_PATIENT, patient)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if not entries:
            self.empty.setText(
                f"No patient matches “{text}”." if text
                else "No patient has an open course. Search by clinic id or name."
            )
        else:
            self.empty.setText("")
        self.list.setCurrentRow(0 if entries else -1)
        if not entries:
            self._current_changed(None, None)

    def _search_entered(self) -> None:
        self._debounce.stop()
        self.refresh()
        if self.list.count():
            self.list.setFocus()

    def _current_changed(self, current: QListWidgetItem | None, _previous) -> None:
        if current is None:
            self.plan = None
            self.card.show_plan(None)
            return
        patient = current.data(ROLE_PATIENT)
        try:
            self.plan = overview_for(self.db, patient)
        except Exception as exc:
            log.exception("course of patient %s not read", patient.id)
            self.plan = None
            self.card.show_plan(None)
            self.card.blockers.setText(f"The course could not be read: {exc}")
            return
        self.card.show_plan(self.plan)

    # ------------------------------------------------ what the card offers
    def _open(self, dialog, signal) -> None:
        self.dialog = dialog
        signal.connect(lambda *_: self.refresh_card())
        dialog.open()

    def record_mt(self) -> None:
        if self.plan is not None and self.user is not None and allowed(self.user, "record_session"):
            dialog = MtDialog(self.db, self.user, self.plan.patient.id, parent=self)
            self._open(dialog, dialog.recorded)

    def record_screening(self) -> None:
        if self.plan is not None and self.user is not None and allowed(self.user, "record_screening"):
            course_id = self.plan.course.id if self.plan.course else None
            dialog = ScreeningDialog(self.db, self.user, self.plan.patient.id, course_id, parent=self)
            self._open(dialog, dialog.saved)

    def clear(self) -> None:
        if self.plan is not None and self.user is not None and allowed(self.user, "clear_screening"):
            dialog = ClearanceDialog(self.db, self.plan.patient.id, parent=self)
            dialog.username.setText(self.user.username)
            self._open(dialog, dialog.cleared)

    def _activated(self, _item: QListWidgetItem) -> None:
        self.begin()

    def begin(self) -> None:
        if self.plan is not None and self.plan.can_start:
            self.session_requested.emit(self.plan)
