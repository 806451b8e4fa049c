"""PHQ-9 entry (nine answers 0-3, the total computed) and clinician-rated totals (HAM-D, MADRS).

An item 9 answer above 0 does not close the form: it turns into the clinic's
safety prompt, in large type, and asks who was told and when; that is
recorded for the handoff note.
"""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QGridLayout,
    QLineEdit,
    QRadioButton,
    QWidget,
)

from console.clinic import outcomes
from console.clinic import records as clinic
from console.clinic.outcomes import OutcomeError, Phq9Result
from console.people.user import User
from console.store import Store
from console.ui.clinic.number_field import NumberField
from console.ui.widgets.form_dialog import FormDialog, label, restyle
from console.ui.widgets.qt_dates import edited_datetime


class Phq9Dialog(FormDialog):
    """``saved(result)`` once the PHQ-9 is stored (and, after an item 9 above 0, who was told)."""

    saved = Signal(object)

    def __init__(
        self,
        db: Store,
        user: User,
        patient_id: int,
        course_id: int | None,
        session_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        patient = clinic.get_patient(db, patient_id)
        texts = outcomes.texts()["phq9"]
        super().__init__(f"PHQ-9 — {patient.clinic_id} {patient.initials}", texts["question"], parent)
        self.db, self.user = db, user
        self.patient_id, self.course_id, self.session_id = patient_id, course_id, session_id
        self.phq9: Phq9Result | None = None
        self.setMinimumWidth(900)
        grid = QGridLayout()
        for c, choice in enumerate(texts["choices"]):
            grid.addWidget(label(f"{choice} ({c})", self, "caption"), 0, c + 1)
        self.groups: list[QButtonGroup] = []
        for n, text in enumerate(texts["items"], start=1):
            grid.addWidget(label(f"{n}. {text}", self), n, 0)
            group = QButtonGroup(self)
            for value in range(4):
                button = QRadioButton(str(value), self)
                button.setAccessibleName(f"Question {n}: {texts['choices'][value]}")
                group.addButton(button, value)
                grid.addWidget(button, n, value + 1)
            group.idClicked.connect(self._update_total)
            self.groups.append(group)
        grid.setColumnStretch(0, 1)
        self.body.addLayout(grid)
        self.keys_hint = label(
            "Keyboard: type 0, 1, 2 or 3 to answer the question in focus; the next question follows.",
            self, "hint",
        )
        self.body.addWidget(self.keys_hint)
        self.total = label("Total: — (answer all nine)", self, "midValue")
        self.total.setAccessibleName("PHQ-9 total")
        self.body.addWidget(self.total)
        # Shown only after an item 9 answer above 0.
        self.prompt_box = QWidget(self)
        prompt_layout = QGridLayout(self.prompt_box)
        self.prompt_text = label("", self.prompt_box, "warning")
        self.prompt_text.setAccessibleName("Safety prompt")
        self.told_whom = QLineEdit(self.prompt_box)
        self.told_whom.setPlaceholderText("Name and role of the person told")
        self.told_whom.setAccessibleName("Who was told")
        self.told_at = QDateTimeEdit(QDateTime.currentDateTime(), self.prompt_box)
        self.told_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.told_at.setAccessibleName("When they were told")
        prompt_layout.addWidget(self.prompt_text, 0, 0, 1, 2)
        prompt_layout.addWidget(label("Told", self.prompt_box), 1, 0)
        prompt_layout.addWidget(self.told_whom, 1, 1)
        prompt_layout.addWidget(label("At", self.prompt_box), 2, 0)
        prompt_layout.addWidget(self.told_at, 2, 1)
        self.saved_state = label("", self.prompt_box, "hint")
        prompt_layout.addWidget(self.saved_state, 3, 0, 1, 2)
        self.prompt_box.setVisible(False)
        self.body.addWidget(self.prompt_box)
        self.finish()
        self.groups[0].buttons()[0].setFocus()

    def showEvent(self, event: QShowEvent) -> None:
        """Open tall enough for every question's wrapped text: a dialog sizes itself without the
        wrapped lines and would squash the questions into each other."""
        super().showEvent(event)
        needed = self.body.totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """0-3 answers the question whose button has the focus, then moves to the next question
        (issue 20, item 20: the answers could only be clicked)."""
        digit = event.text()
        if digit in ("0", "1", "2", "3") and not self.prompt_box.isVisible():
            n = self._focused_question()
            if n is not None:
                self.answer(n, int(digit))
                return
        super().keyPressEvent(event)

    def _focused_question(self) -> int | None:
        focused = self.focusWidget()
        for n, group in enumerate(self.groups):
            if focused in group.buttons():
                return n
        return None

    def answer(self, n: int, value: int) -> None:
        """Answer question ``n`` (0-based) with ``value``, as a click would, and go to the next one."""
        button = self.groups[n].button(value)
        button.click()
        following = self.groups[n + 1] if n + 1 < len(self.groups) else None
        if following is not None:
            target = following.checkedButton() or following.button(0)
            target.setFocus(Qt.FocusReason.TabFocusReason)
        else:
            self.ok.setFocus(Qt.FocusReason.TabFocusReason)

    def items(self) -> list[int | None]:
        return [g.checkedId() if g.checkedId() >= 0 else None for g in self.groups]

    def _update_total(self) -> None:
        items = self.items()
        answered = [i for i in items if i is not None]
        if len(answered) < len(items):
            self.total.setText(
                f"Total so far: {sum(answered)} ({len(items) - len(answered)} not answered)"
            )
        else:
            total = sum(answered)
            self.total.setText(f"Total: {total} ({outcomes.severity(total)})")

    def save(self) -> None:
        if self.phq9 is not None:  # second step: who was told of item 9
            outcomes.record_item9_notification(
                self.db, self.user, self.phq9.id, self.told_whom.text(), edited_datetime(self.told_at)
            )
            return
        items = self.items()
        missing = [n for n, v in enumerate(items, start=1) if v is None]
        if missing:
            raise OutcomeError(f"Answer every question; not answered: {', '.join(map(str, missing))}.")
        answered = [i for i in items if i is not None]  # all nine: none is missing
        self.phq9 = outcomes.record_phq9(
            self.db, self.user, self.patient_id, self.course_id, answered, self.session_id
        )

    def after_save(self) -> None:
        assert self.phq9 is not None
        if self.phq9.safety_prompt and not self.prompt_box.isVisible():
            for group in self.groups:
                for button in group.buttons():
                    button.setEnabled(False)
            self.prompt_text.setText(self.phq9.prompt_text or "")
            self.prompt_box.setVisible(True)
            self.ok.setText("Record who was told")
            self.cancel.setVisible(False)  # the PHQ-9 is saved; this step is not skipped by Escape
            self.saved_state.setText(
                f"PHQ-9 saved: total {self.phq9.total}. Item 9 was answered {self.phq9.items[8]}."
            )
            self.told_whom.setFocus()
            return
        self.saved.emit(self.phq9)
        self.accept()

    def reject(self) -> None:
        if self.prompt_box.isVisible():
            self.show_problem("Record who was told of the item 9 answer before closing.")
            return
        super().reject()


class RatingTotalDialog(FormDialog):
    """A clinician-rated total: HAM-D or MADRS. ``saved(outcome_id)``."""

    saved = Signal(int)

    def __init__(
        self,
        db: Store,
        user: User,
        patient_id: int,
        course_id: int | None,
        parent: QWidget | None = None,
    ) -> None:
        patient = clinic.get_patient(db, patient_id)
        super().__init__(f"Clinician rating — {patient.clinic_id} {patient.initials}", None, parent)
        self.db, self.user, self.patient_id, self.course_id = db, user, patient_id, course_id
        self.outcome_id = 0
        spec = outcomes.texts()["instruments"]
        self.instrument = QComboBox(self)
        for key in ("HAM-D", "MADRS"):
            self.instrument.addItem(f"{key} — {spec[key].get('name', key)}", key)
        self.instrument.setAccessibleName("Instrument")
        # Long names must not push the field's caption off the form.
        self.instrument.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.instrument.setMinimumContentsLength(24)
        # Typed as text, refused with the instrument's range: a spin box clamped silently.
        self.total = NumberField("the total", 0, 0, parent=self)
        self.total.setAccessibleName("Total score")
        self.form.addRow("Instrument", self.instrument)
        self.form.addRow("Total", self.total)
        self.range_hint = label("", self, "hint")
        self.body.addWidget(self.range_hint)
        self.instrument.currentIndexChanged.connect(self._instrument_changed)
        self.total.textChanged.connect(self._total_changed)
        self._instrument_changed()
        self.finish()

    def _instrument_changed(self) -> None:
        spec = outcomes.texts()["instruments"][self.instrument.currentData()]
        self.total.set_range(int(spec["min"]), int(spec["max"]))

    def _total_changed(self) -> None:
        problem = self.total.problem() if self.total.text().strip() else None
        self.range_hint.setText(problem or f"The total is {self.total.range_text()}.")
        restyle(self.range_hint, "warning" if problem else "hint")

    def save(self) -> None:
        total = self.total.value()
        if total is None:
            raise OutcomeError(self.total.problem() or "")
        self.outcome_id = outcomes.record_total(
            self.db,
            self.user,
            self.patient_id,
            self.course_id,
            self.instrument.currentData(),
            int(total),
        )

    def after_save(self) -> None:
        self.saved.emit(self.outcome_id)
        self.accept()
