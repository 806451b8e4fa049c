"""End of session: the summary (pulses, on-target share, faults, pauses), a
PHQ-9 when the course schedule says it is due, the side effects the patient
reports, and the technician's observations — the patient's own words kept
apart from what the technician saw — then on to the handoff note.

Everything entered here is appended to the ended session's record through
``console.session.entries`` (append-only rows, audited).
"""

from __future__ import annotations

import logging
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.clinic.outcomes import phq9_due
from console.people.user import User
from console.resource_data import lists as clinic_lists
from console.session import entries as session_entries
from console.session.snapshot import LiveSnapshot
from console.store import Store
from console.ui.chair.session_controls import side_effect_kinds
from console.ui.chair.session_dialogs import SideEffectDialog, open_dialog
from console.ui.clinic.phq9_dialog import Phq9Dialog
from console.ui.widgets.big_numbers import Tile
from console.ui.widgets.formatting import clock, percent

log = logging.getLogger(__name__)

END_WORDS = {"completed": "Session completed", "stopped": "Session stopped", "aborted": "Session aborted"}


class ObservationForm(QFrame):
    """Mood, the patient's words, what the technician saw, what they'd like to work on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setAccessibleName("Observations")
        caption = QLabel("OBSERVATIONS", self)
        caption.setObjectName("caption")
        self.mood = QComboBox(self)
        self.mood.setEditable(True)
        self.mood.addItems(["", *clinic_lists.moods()])
        self.mood.setAccessibleName("Mood")
        mood_editor = self.mood.lineEdit()
        assert mood_editor is not None  # setEditable(True) made it
        mood_editor.setAccessibleName("Mood")
        self.patient_said = QPlainTextEdit(self)
        self.patient_said.setAccessibleName("What the patient said, in their own words")
        self.patient_said.setPlaceholderText("Their own words, as said")
        self.patient_said.setTabChangesFocus(True)
        self.patient_said.setMaximumHeight(130)
        self.technician_saw = QPlainTextEdit(self)
        self.technician_saw.setAccessibleName("What you saw")
        self.technician_saw.setPlaceholderText("What you saw: behaviour, not interpretation")
        self.technician_saw.setTabChangesFocus(True)
        self.technician_saw.setMaximumHeight(130)
        self.wants_to_work_on = QLineEdit(self)
        self.wants_to_work_on.setAccessibleName("What they would like to work on")
        self.wants_to_work_on.setPlaceholderText("What they said they'd like to work on in therapy")
        grid = QGridLayout()
        grid.setVerticalSpacing(6)
        rows = (
            ("Mood", self.mood),
            ("Patient said", self.patient_said),
            ("You saw", self.technician_saw),
            ("Would like to work on", self.wants_to_work_on),
        )
        for row, (name, widget) in enumerate(rows):
            label = QLabel(name, self)
            label.setObjectName("hint")
            label.setBuddy(widget)
            grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(widget, row, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(caption)
        layout.addLayout(grid)
        layout.addStretch(1)

    def values(self) -> dict[str, str]:
        return {
            "mood": self.mood.currentText().strip(),
            "patient_said": self.patient_said.toPlainText().strip(),
            "technician_saw": self.technician_saw.toPlainText().strip(),
            "wants_to_work_on": self.wants_to_work_on.text().strip(),
        }

    def clear(self) -> None:
        self.mood.setCurrentIndex(0)
        self.mood.setEditText("")
        self.patient_said.clear()
        self.technician_saw.clear()
        self.wants_to_work_on.clear()


class EndOfSession(QWidget):
    """The screen after the run; ``finished(session_id)`` leads on to the handoff note."""

    finished = Signal(int)

    def __init__(self, db: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setAccessibleName("End of session")
        self.user: User | None = None
        self.session_id: int | None = None
        self.patient_id: int | None = None
        self.course_id: int | None = None
        self.dialog: QDialog | None = None
        self.title = QLabel("Session ended", self)
        self.title.setObjectName("screenTitle")
        self.reason = QLabel("", self)
        self.reason.setObjectName("hint")
        self.reason.setWordWrap(True)
        self.pulses = Tile("Pulses", self)
        self.on_target = Tile("On target", self)
        self.faults = Tile("Faults", self)
        self.pauses = Tile("Pauses", self)
        self.duration = Tile("Duration", self)
        tiles = QHBoxLayout()
        for tile in (self.pulses, self.on_target, self.faults, self.pauses, self.duration):
            tiles.addWidget(tile)
        # Side effects and PHQ-9.
        left = QFrame(self)
        left.setObjectName("panel")
        caption = QLabel("SIDE EFFECTS REPORTED", left)
        caption.setObjectName("caption")
        self.side_effect_list = QListWidget(left)
        self.side_effect_list.setWordWrap(True)  # a long description reads whole
        self.side_effect_list.setAccessibleName("Side effects reported")
        self.side_effect_list.setMinimumHeight(90)
        buttons = QGridLayout()
        self.side_effect_buttons: dict[str, QPushButton] = {}
        for i, item in enumerate(side_effect_kinds()):
            keys = f"Alt+{i + 1}"
            button = QPushButton(f"{item['label']}   {keys}", left)
            button.setObjectName("sideEffect")
            button.setShortcut(QKeySequence(keys))
            button.setAccessibleName(f"Side effect: {item['label']}")
            button.clicked.connect(self._side_effect_handler(item["kind"], item["label"]))
            self.side_effect_buttons[item["kind"]] = button
            buttons.addWidget(button, i // 2, i % 2)
        self.phq9_state = QLabel("", left)
        self.phq9_state.setObjectName("warning")
        self.phq9_state.setWordWrap(True)
        # Not Ctrl+Q: that is Quit on Linux and macOS (issue 20, item 20).
        self.phq9_button = QPushButton("Enter PHQ-9   Ctrl+9", left)
        self.phq9_button.setShortcut(QKeySequence("Ctrl+9"))
        self.phq9_button.setAccessibleName("Enter the PHQ-9")
        self.phq9_button.clicked.connect(self.open_phq9)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(16, 12, 16, 12)
        left_layout.addWidget(caption)
        left_layout.addWidget(self.side_effect_list, 1)
        left_layout.addLayout(buttons)
        left_layout.addSpacing(8)
        left_layout.addWidget(self.phq9_state)
        left_layout.addWidget(self.phq9_button)
        self.observations = ObservationForm(self)
        middle = QHBoxLayout()
        middle.setSpacing(14)
        middle.addWidget(left, 2)
        middle.addWidget(self.observations, 3)
        self.message = QLabel("", self)
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        self.proceed = QPushButton("Continue to the handoff note   Ctrl+Enter", self)
        self.proceed.setObjectName("primary")
        self.proceed.setAccessibleName("Continue to the handoff note")
        self.proceed.setAutoDefault(True)
        self.proceed.clicked.connect(self.finish)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.finish)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.proceed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.setSpacing(12)
        layout.addWidget(self.title)
        layout.addWidget(self.reason)
        layout.addLayout(tiles)
        layout.addLayout(middle, 1)
        layout.addLayout(bottom)

    # ----------------------------------------------------------------- content
    def show_session(self, snap: LiveSnapshot, *, user: User | None, patient_id: int | None,
                     course_id: int | None, context: str = "") -> None:
        """Fill the screen from the session's final snapshot."""
        self.user = user
        self.session_id = snap.session_id
        self.end_status, self.end_reason = snap.end_status, snap.end_reason
        self.phq9_saved_text = ""
        self.patient_id = patient_id
        self.course_id = course_id
        title = END_WORDS.get(snap.end_status or "", "Session ended")
        self.title.setText(f"{title} — {context}" if context else title)
        self.reason.setText(f"Reason: {snap.end_reason}" if snap.end_reason else "")
        planned = f" / {snap.pulses_planned:,}".replace(",", " ") if snap.pulses_planned else ""
        lost = snap.pulses_delivered - snap.pulses_recorded
        recorded = "" if lost <= 0 else (f"{lost} given by the device but not received by the console "
                                         "(a gap in the connection)")
        if snap.pulses_observed:
            self.pulses.show_values(f"{snap.pulses_delivered:,}".replace(",", " ") + planned, recorded)
        else:  # never zero pulses for a device that cannot report them (issue 16)
            self.pulses.show_values("not observed" + planned,
                                    "this device does not report each pulse; see its own log")
        self.on_target.show_values(percent(snap.on_target_share), "of pulses with a pose")
        losses = len(session_entries.session_events(self.db, snap.session_id, ["device_lost"])) \
            if snap.session_id is not None else 0
        self.faults.show_values(str(snap.faults),
                                f"device connection lost {losses}×" if losses else "")
        self.pauses.show_values(str(snap.pauses))
        self.duration.show_values(clock(snap.elapsed_s))
        self.observations.clear()
        self.message.setText("")
        self.refresh_side_effects()
        self._show_phq9()
        self.observations.mood.setFocus()

    def refresh_side_effects(self) -> None:
        self.side_effect_list.clear()
        if self.session_id is None:
            return
        labels = {item["kind"]: item["label"] for item in side_effect_kinds()}
        rows = session_entries.session_events(self.db, self.session_id, ["side_effect", "adverse_event"])
        for row in rows:
            detail = row["detail"] if isinstance(row["detail"], dict) else {}
            if row["kind"] == "adverse_event":  # kept with the side effects: the end screen says it
                what = f" — {detail['description']}" if detail.get("description") else ""
                self.side_effect_list.addItem(f"Adverse event: {row['code'] or 'recorded'}{what}")
                continue
            note = f" — {detail['note']}" if detail.get("note") else ""
            label = labels.get(row["code"], row["code"] or "side effect")
            self.side_effect_list.addItem(f"{label}: {detail.get('rating', '?')}/10{note}")
        if not self.side_effect_list.count():
            adverse = getattr(self, "end_status", None) == "aborted" and "adverse" in (
                getattr(self, "end_reason", None) or "")
            self.side_effect_list.addItem(
                "Adverse event: its record is still open" if adverse else "None reported")

    def _phq9_due(self) -> bool:
        if self.course_id is None:
            return False
        try:
            return bool(phq9_due(self.db, self.course_id, date.today()))
        except Exception:
            log.exception("PHQ-9 due date not known")
            return False

    def _show_phq9(self) -> None:
        due = self._phq9_due()
        self.phq9_state.setText("PHQ-9 is due today." if due else "")
        self.phq9_button.setVisible(due)

    def open_phq9(self) -> None:
        """The PHQ-9 entry (console.ui.clinic.phq9_dialog), kept with this session."""
        if self.patient_id is None or self.user is None:
            return
        try:
            dialog = Phq9Dialog(self.db, self.user, self.patient_id, self.course_id, self.session_id,
                                parent=self)
        except Exception as exc:
            log.exception("PHQ-9 dialog failed")
            self.message.setText(f"The PHQ-9 could not be opened: {exc}")
            return
        self.dialog = dialog
        dialog.saved.connect(self._phq9_saved)
        open_dialog(self, dialog, self._phq9_closed)

    def _phq9_closed(self) -> None:
        self.dialog = None
        self._show_phq9()
        if saved := getattr(self, "phq9_saved_text", ""):
            self.phq9_state.setText(saved)

    def _phq9_saved(self, result) -> None:
        """Say the PHQ-9 was saved, with its total (issue 20, item 14: the form closed without a word)."""
        self.phq9_saved_text = f"PHQ-9 saved: total {result.total} ({result.severity})."

    # ---------------------------------------------------------- side effects
    def _side_effect_handler(self, kind: str, label: str):
        def clicked() -> None:
            self.ask_side_effect(kind, label)

        return clicked

    def ask_side_effect(self, kind: str, label: str) -> None:
        dialog = SideEffectDialog(kind, label, self)
        dialog.submitted.connect(self.add_side_effect)
        self.dialog = dialog
        open_dialog(self, dialog, self._dialog_closed)

    def _dialog_closed(self) -> None:
        self.dialog = None

    def add_side_effect(self, kind: str, rating: int, note: str) -> None:
        if self.session_id is None or self.user is None:
            return
        try:
            session_entries.add_side_effect(self.db, self.user, self.session_id, kind, rating, note or None)
        except Exception as exc:
            log.warning("side effect not recorded: %s", exc)
            self.message.setText(f"The side effect was not recorded: {exc}")
            return
        self.refresh_side_effects()

    # ------------------------------------------------------------------ finish
    def finish(self) -> None:
        """Save the observations (when any field is filled) and go on to the note."""
        if self.session_id is None or not self.isVisible():
            return
        values = self.observations.values()
        if any(values.values()):
            if self.user is None:
                self.message.setText("Log in to record observations.")
                return
            try:
                session_entries.add_observation(self.db, self.user, self.session_id, **values)
            except Exception as exc:
                log.warning("observation not recorded: %s", exc)
                self.message.setText(f"The observations were not recorded: {exc}")
                return
            self.observations.clear()
        self.finished.emit(self.session_id)
