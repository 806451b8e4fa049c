"""The technician's controls during a session, each with a keyboard shortcut
and an accessible name: start, pause, resume, stop, note, and the quick
side-effect buttons (the list is clinic-editable in resources/session_lists.json)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from console.resource_data.lists import SideEffectChoice, side_effect_choices

SHORTCUTS = {
    "start": "F5",
    "pause": "F6",
    "resume": "F7",
    "stop": "F8",
    "note": "Ctrl+N",
    "adverse": "F12",
    "back": "Esc",
}


def side_effect_kinds() -> list[SideEffectChoice]:
    """The quick side-effect buttons, from the clinic's list."""
    return side_effect_choices()


class TwoLineButton(QPushButton):
    """A button whose text is two lines (a name over its keys). The style sheet's min-height
    is one line's, and a layout short of room squashed the second line away (at 1280×720):
    once styled, its minimum height is what both lines need."""

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() in (QEvent.Type.Polish, QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.setMinimumHeight(0)
            self.setMinimumHeight(self.sizeHint().height())
        return handled


def _button(parent: QWidget, text: str, keys: str, name: str, object_name: str = "",
            two_lines: bool = False) -> QPushButton:
    kind = TwoLineButton if two_lines else QPushButton
    button = kind(f"{text}\n{keys}" if two_lines else f"{text}   {keys}", parent)
    button.setShortcut(QKeySequence(keys))
    button.setAccessibleName(name)
    button.setToolTip(f"{name} ({keys})")
    if object_name:
        button.setObjectName(object_name)
    return button


class SessionControls(QFrame):
    """Buttons only: they say what the technician asked; the session view acts on it."""

    start_clicked = Signal()
    pause_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()
    note_clicked = Signal()
    side_effect_clicked = Signal(str, str)  # kind, label
    adverse_clicked = Signal()
    back_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setAccessibleName("Session controls")
        self.start = _button(self, "Start", SHORTCUTS["start"], "Start the session", "primary")
        self.pause = _button(self, "Pause", SHORTCUTS["pause"], "Pause the session")
        self.resume = _button(self, "Resume", SHORTCUTS["resume"], "Resume the session", "primary")
        self.stop = _button(self, "Stop", SHORTCUTS["stop"], "Stop the session", "danger")
        self.note = _button(self, "Note", SHORTCUTS["note"], "Add a note", two_lines=True)
        self.adverse = _button(self, "Adverse event", SHORTCUTS["adverse"],
                               "Adverse event: stop now and record it", "danger")
        self.adverse.setToolTip("Stops the run at once, then shows the first-aid steps and records the event "
                                f"({SHORTCUTS['adverse']})")
        self.start.clicked.connect(self.start_clicked)
        self.pause.clicked.connect(self.pause_clicked)
        self.resume.clicked.connect(self.resume_clicked)
        self.stop.clicked.connect(self.stop_clicked)
        self.note.clicked.connect(self.note_clicked)
        self.adverse.clicked.connect(self.adverse_clicked)
        self.back = _button(self, "Not now: back to patients", SHORTCUTS["back"],
                            "Back to the patients without starting")
        self.back.setObjectName("small")
        self.back.clicked.connect(self.back_clicked)
        # Compact enough for a 1280×720 screen (issue 20, item 7): Start/Stop and Pause/Resume
        # stay full-size side by side; Note takes the side effects' free cell; "Not now" lives in
        # the session view's header (``back`` is placed there by the view).
        run = QGridLayout()
        run.setSpacing(6)
        run.addWidget(self.start, 0, 0)
        run.addWidget(self.stop, 0, 1)
        run.addWidget(self.pause, 1, 0)
        run.addWidget(self.resume, 1, 1)
        caption = QLabel("SIDE EFFECT OR NOTE", self)
        caption.setObjectName("caption")
        effects = QGridLayout()
        effects.setSpacing(6)
        self.side_effects: dict[str, QPushButton] = {}
        kinds = side_effect_kinds()
        for i, item in enumerate(kinds):
            keys = f"Alt+{i + 1}"
            button = _button(self, item["label"], keys, f"Side effect: {item['label']}", "sideEffect",
                             two_lines=True)
            button.clicked.connect(self._side_effect_handler(item["kind"], item["label"]))
            self.side_effects[item["kind"]] = button
            effects.addWidget(button, i // 2, i % 2)
        self.note.setObjectName("sideEffect")
        n = len(kinds)
        effects.addWidget(self.note, n // 2, n % 2, 1, 2 - n % 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(run)
        layout.addSpacing(4)
        layout.addWidget(caption)
        layout.addLayout(effects)
        layout.addStretch(1)
        layout.addSpacing(4)
        layout.addWidget(self.adverse)
        self.set_state("ready", connected=False, has_session=False)

    def _side_effect_handler(self, kind: str, label: str):
        def clicked() -> None:
            self.side_effect_clicked.emit(kind, label)

        return clicked

    def set_state(self, state: str, *, connected: bool, has_session: bool,
                  protocol_confirmed: bool = True) -> None:
        """Enable only what makes sense now (a disabled button's shortcut does nothing): Start
        only once the device has confirmed the course's protocol."""
        self.start.setEnabled(state == "ready" and connected and protocol_confirmed)
        self.pause.setEnabled(state == "running")
        self.resume.setEnabled(state == "paused")
        self.stop.setEnabled(state in ("armed", "running", "paused"))
        live = has_session and state != "ended"
        self.note.setEnabled(live)
        self.adverse.setEnabled(has_session)
        self.back.setVisible(state == "ready")
        for button in self.side_effects.values():
            button.setEnabled(live)
