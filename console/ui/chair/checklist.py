"""The pre-session checklist: every item answered yes or no, none skipped;
an answer the clinic configured (``note_on`` in resources/checklist.json)
asks for a note before the session can go on, and an answer it lists in
``block_on`` or ``physician_on`` stops the session here: the page says why
and what to do (``stop_says``), and Continue stays off until it is answered
otherwise (metal removed, earplugs fitted) - issue 14, item 10. An answer the
clinic sends to a physician (``physician_on``) offers "Hold for the physician"
instead: the checklist is kept as answered and the course waits for a
physician's signed review (console.safety.checklist_holds), so the next try, or
tomorrow's, does not begin as if nothing had been said.

One way of answering, by key or by mouse: Y or N (or a click on Yes or No)
answers the highlighted question and moves on, to its note when the answer
needs one, else to the next unanswered question; Tab and Shift+Tab only move,
without answering; arrows switch an answer; Enter continues once all is
answered. The hint says exactly this.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.resource_data.lists import ChecklistQuestion
from console.resource_data.lists import checklist_items as clinic_checklist
from console.ui.widgets import theme

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChecklistAnswer:
    id: str
    question: str
    answer: str  # "yes" or "no"
    note: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "question": self.question, "answer": self.answer, "note": self.note}


def checklist_items() -> list[ChecklistQuestion]:
    """The clinic's checklist (read once and checked by the domain); an item without ``note_on``
    never asks for a note."""
    return clinic_checklist()


class ChecklistItem(QFrame):
    """One question: Yes / No, and a note field when the answer asks for one."""

    changed = Signal()
    answered = Signal(object)  # self, after Y or N from the keyboard

    def __init__(self, number: int, item: ChecklistQuestion, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.item_id = item["id"]
        self.question = item["question"]
        self.note_on = set(item["note_on"])
        self.stop_on = set(item.get("stop_on", []))
        self.physician_on = set(item.get("physician_on", []))
        self.stop_says = item.get("stop_says", "") or "This answer stops the session: tell the physician."
        self.label = QLabel(f"{number}. {self.question}", self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.yes = QRadioButton("Yes", self)
        self.no = QRadioButton("No", self)
        self.yes.setAccessibleName(f"Yes: {self.question}")
        self.no.setAccessibleName(f"No: {self.question}")
        self.group = QButtonGroup(self)
        self.group.addButton(self.yes)
        self.group.addButton(self.no)
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("Note (needed for this answer)")
        self.note.setAccessibleName(f"Note: {self.question}")
        self.note.setVisible(False)
        self.stop = QLabel(self.stop_says, self)
        self.stop.setWordWrap(True)
        self.stop.setTextFormat(Qt.TextFormat.PlainText)
        self.stop.setAccessibleName(f"Stops the session: {self.question}")
        self.stop.setStyleSheet(f"color: {theme.OFF}; font-weight: bold;")
        self.stop.setVisible(False)
        answers = QHBoxLayout()
        answers.addWidget(self.yes)
        answers.addWidget(self.no)
        answers.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.addWidget(self.label)
        layout.addLayout(answers)
        layout.addWidget(self.stop)
        layout.addWidget(self.note)
        self.group.buttonToggled.connect(self._toggled)
        self.note.textChanged.connect(self.changed)
        self.note.returnPressed.connect(self._note_entered)
        self.note.installEventFilter(self)
        self.current = False
        for button in (self.yes, self.no):
            button.installEventFilter(self)
            # a click answers as Y/N does, and moves on the same way: the next key never
            # re-answers the clicked question
            button.clicked.connect(self._clicked)

    def eventFilter(self, obj, event) -> bool:
        if event.type() in (event.Type.FocusIn, event.Type.FocusOut):
            self.set_current(event.type() == event.Type.FocusIn)
        # Y and N answer on the Yes/No buttons only: in the note they are letters of the note
        # (typing "no metal" into a note used to switch the answer)
        if (event.type() == event.Type.KeyPress and event.key() in (Qt.Key.Key_Y, Qt.Key.Key_N)
                and obj in (self.yes, self.no)):
            (self.yes if event.key() == Qt.Key.Key_Y else self.no).setChecked(True)
            self.answered.emit(self)
            return True
        return super().eventFilter(obj, event)

    def set_current(self, current: bool) -> None:
        """Highlight the question the next key answers."""
        if current != self.current:
            self.current = current
            self.setStyleSheet(f"QFrame#panel {{ border: 2px solid {theme.ACCENT}; }}" if current else "")

    def _clicked(self) -> None:
        self.answered.emit(self)

    def _note_entered(self) -> None:
        if self.note.text().strip():
            self.answered.emit(self)

    @property
    def answer(self) -> str | None:
        if self.yes.isChecked():
            return "yes"
        if self.no.isChecked():
            return "no"
        return None

    @property
    def needs_note(self) -> bool:
        return self.answer in self.note_on

    @property
    def for_physician(self) -> bool:
        """This answer holds the course for a physician's review (the clinic's ``physician_on``)."""
        return self.answer in self.physician_on

    @property
    def stops(self) -> bool:
        """This answer stops the session (the clinic's ``block_on`` / ``physician_on``)."""
        return self.answer in self.stop_on

    def _toggled(self, _button, checked: bool) -> None:
        if checked:
            self.note.setVisible(self.needs_note)
            self.stop.setVisible(self.stops)
            self.changed.emit()

    def problem(self) -> str | None:
        if self.answer is None:
            return "not answered"
        if self.stops:
            return "stops the session"
        if self.needs_note and not self.note.text().strip():
            return "needs a note"
        return None

    def result(self) -> ChecklistAnswer:
        note = self.note.text().strip() if self.needs_note else ""
        return ChecklistAnswer(self.item_id, self.question, self.answer or "", note)

    def focus_first(self) -> None:
        (self.no if self.no.isChecked() else self.yes).setFocus()


HINT = ("Ask each question, then press Y or N (or click Yes or No): the answer is kept and the "
        "next question is highlighted. Tab moves without answering.")


class ChecklistPage(QWidget):
    """All items; ``completed(list[ChecklistAnswer])`` once every one is answered."""

    completed = Signal(object)
    held = Signal(object)
    """list[ChecklistAnswer]: an answer needs a physician; keep them and hold the course."""
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Pre-session checklist")
        self.title = QLabel("Before the session", self)
        self.title.setObjectName("screenTitle")
        hint = QLabel(HINT, self)
        hint.setWordWrap(True)
        hint.setAccessibleName("How to answer")
        hint.setObjectName("hint")
        body = QWidget(self)
        items_layout = QVBoxLayout(body)
        items_layout.setSpacing(10)
        self.items: list[ChecklistItem] = []
        for n, item in enumerate(checklist_items(), start=1):
            widget = ChecklistItem(n, item, body)
            widget.changed.connect(self._update)
            widget.answered.connect(self._answered)
            self.items.append(widget)
            items_layout.addWidget(widget)
        items_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setAccessibleName("Checklist questions")
        self.status = QLabel("", self)
        self.status.setObjectName("hint")
        self.status.setAccessibleName("Checklist status")
        self.back = QPushButton("Back to patients", self)
        self.back.setAccessibleName("Back to patients")
        self.back.clicked.connect(self.back_requested)
        self.proceed = QPushButton("Continue to the session   Enter", self)
        self.proceed.setObjectName("primary")
        self.proceed.setAccessibleName("Continue to the session")
        self.proceed.setAutoDefault(True)
        self.proceed.clicked.connect(self._proceed)
        self.hold = QPushButton("Hold for the physician   Enter", self)
        self.hold.setObjectName("primary")
        self.hold.setAccessibleName("Hold for the physician")
        self.hold.setToolTip("Keeps this checklist with the patient's record; no session until a "
                             "physician has reviewed it.")
        self.hold.clicked.connect(self._hold)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back)
        buttons.addStretch(1)
        buttons.addWidget(self.status)
        buttons.addWidget(self.hold)
        buttons.addWidget(self.proceed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.addWidget(self.title)
        layout.addWidget(hint)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self._update()

    def begin(self, title: str) -> None:
        """A fresh checklist for the next session: no answer carries over."""
        self.title.setText(f"Before the session — {title}")
        for item in self.items:
            item.group.setExclusive(False)
            item.yes.setChecked(False)
            item.no.setChecked(False)
            item.group.setExclusive(True)
            item.note.clear()
            item.note.setVisible(False)
            item.stop.setVisible(False)
        self._update()
        self.focus_open_question()
        # Again once the event loop runs: the page is often reached from a dialog (an early start,
        # an override), and closing it hands the keyboard back to whatever had it before, which
        # left Y and N going nowhere.
        QTimer.singleShot(0, self, self.focus_open_question)  # cancelled with the page

    def focus_open_question(self) -> None:
        """The keyboard on the first question still to answer (or on Continue), in an active
        window, so the next Y or N answers the question the highlight shows."""
        if not self.isVisible():
            return
        self.window().activateWindow()
        first = next((i for i in self.items if i.problem()), None)
        if first is not None:
            first.focus_first()
        elif self.proceed.isEnabled():
            self.proceed.setFocus()
        elif self.hold.isEnabled():
            self.hold.setFocus()

    def problems(self) -> list[str]:
        return [f"{n}: {p}" for n, item in enumerate(self.items, start=1) if (p := item.problem())]

    def can_hold(self) -> bool:
        """Every question answered (with its notes) and one answer needs a physician."""
        return (any(item.for_physician for item in self.items)
                and all(item.problem() in (None, "stops the session") for item in self.items))

    def _update(self) -> None:
        problems = self.problems()
        self.proceed.setEnabled(not problems)
        self.proceed.setVisible(not any(item.for_physician for item in self.items))
        self.hold.setVisible(not self.proceed.isVisible())
        self.hold.setEnabled(self.can_hold())
        stopped = [n for n, item in enumerate(self.items, start=1) if item.stops]
        if stopped and self.hold.isVisible() and not self.hold.isEnabled():
            self.status.setText("Answer every question (with its note), then hold for the physician")
        elif stopped:
            which = ", ".join(str(n) for n in stopped)
            plural = "s" if len(stopped) > 1 else ""
            self.status.setText(f"The session cannot start: see question{plural} {which}")
        elif problems:
            unanswered = sum(1 for i in self.items if i.answer is None)
            notes = sum(1 for i in self.items if i.answer is not None and i.problem())
            parts = []
            if unanswered:
                parts.append(f"{unanswered} to answer")
            if notes:
                parts.append(f"{notes} note{'s' if notes > 1 else ''} needed")
            self.status.setText(", ".join(parts))
        else:
            self.status.setText("All answered")

    def _answered(self, item: ChecklistItem) -> None:
        """After Y/N: to the note if one is needed, else to the next item, else to Continue."""
        if item.needs_note and not item.note.text().strip():
            item.note.setFocus()
            return
        index = self.items.index(item)
        nxt = next((i for i in self.items[index + 1 :] if i.problem()), None)
        if nxt is not None:
            nxt.focus_first()
        elif self.proceed.isEnabled():
            self.proceed.setFocus()
        elif self.hold.isEnabled():
            self.hold.setFocus()
        else:
            first = next((i for i in self.items if i.problem()), None)
            if first is not None:
                first.focus_first()

    def keyPressEvent(self, event) -> None:
        """Enter continues from anywhere on the page once all is answered (the button says so),
        also after answering with the mouse, when the focus is still on an answer."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.proceed.isEnabled():
            self._proceed()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.hold.isVisible() and self.can_hold():
            self._hold()
            return
        super().keyPressEvent(event)

    def _proceed(self) -> None:
        if self.problems():
            return
        self.completed.emit([item.result() for item in self.items])

    def _hold(self) -> None:
        if self.can_hold():
            self.held.emit([item.result() for item in self.items])
