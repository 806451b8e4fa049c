"""Idle lock, offscreen: after the idle time no visible widget shows the patient's name,
the recording goes on, and only a password brings the screen back."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QDialog,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QPlainTextEdit,
    QStatusBar,
    QTabBar,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from console.clinic.idle_lock import IdleLock
from console.people.login import authenticate
from console.ui.people.idle_watcher import IdleWatcher
from console.ui.people.lock_screen import LockScreen, connect_idle_lock
from tests.accounts.conftest import PASSWORDS

NAME = "Jane Roe"


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def texts_of(widget: QWidget) -> list[str]:
    """Every text a person could read on ``widget`` itself."""
    found = []
    if widget.isWindow():
        found.append(widget.windowTitle())
    for kind, read in ((QLabel, QLabel.text), (QAbstractButton, QAbstractButton.text),
                       (QLineEdit, QLineEdit.text), (QPlainTextEdit, QPlainTextEdit.toPlainText),
                       (QStatusBar, QStatusBar.currentMessage), (QGroupBox, QGroupBox.title),
                       (QDockWidget, QDockWidget.windowTitle)):
        if isinstance(widget, kind):
            found.append(read(widget))
    if isinstance(widget, QTabBar):
        found += [widget.tabText(i) for i in range(widget.count())]
    if isinstance(widget, QAbstractItemView) and widget.model() is not None:
        model = widget.model()
        found += [str(model.data(model.index(r, 0))) for r in range(model.rowCount())]
    return found


def visible_texts() -> list[str]:
    return [text for w in QApplication.allWidgets() if w.isVisible() for text in texts_of(w)]


def name_is_visible() -> bool:
    return any(NAME in text for text in visible_texts())


class ChairWindow(QMainWindow):
    """Stands in for the main window: the patient's name in many kinds of widget, a running
    recording (a timer counting pulses), a print shortcut."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(f"TMS Session Console — {NAME}")
        central = QWidget(self)
        layout = QVBoxLayout(central)
        self.patient = QLabel(f"Patient: {NAME} (P-0042)", central)
        self.pulses = QLabel("0 pulses", central)
        box = QGroupBox(f"Notes about {NAME}", central)
        QVBoxLayout(box).addWidget(QPlainTextEdit(f"{NAME} said she slept well.", box))
        recent = QListWidget(central)
        recent.addItems(["John Doe", NAME])
        for widget in (self.patient, self.pulses, box, recent):
            layout.addWidget(widget)
        self.setCentralWidget(central)
        self.statusBar().showMessage(f"Recording {NAME}")
        dock = QDockWidget(f"History of {NAME}", self)
        dock.setWidget(QLabel(f"{NAME}: 12 of 36 sessions", dock))
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.count = 0
        self.timer = QTimer(self)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._pulse)
        self.timer.start()
        self.printed = 0
        print_action = QAction("Print note", self)
        print_action.setShortcut(QKeySequence("Ctrl+P"))
        print_action.triggered.connect(self._print)
        self.addAction(print_action)

    def _pulse(self) -> None:
        self.count += 1
        self.pulses.setText(f"{self.count} pulses")

    def _print(self) -> None:
        self.printed += 1


class Harness:
    def __init__(self, qtbot, db, people) -> None:
        self.db, self.people = db, people
        self.window = ChairWindow()
        qtbot.addWidget(self.window)
        self.window.resize(900, 600)
        self.window.show()
        qtbot.waitExposed(self.window)
        self.clock = FakeClock()
        self.watcher = IdleWatcher(IdleLock(600, clock=self.clock), poll_ms=10, parent=self.window)
        self.screen = LockScreen(self.window, lambda u, p: authenticate(db, u, p))
        self.current = people["tom"]
        self.switched: list[str] = []
        connect_idle_lock(self.watcher, self.screen, lambda: self.current, self._on_user)
        self.watcher.install()

    def _on_user(self, user) -> None:
        self.current = user
        self.switched.append(user.username)

    def idle(self, qtbot, seconds: float) -> None:
        self.clock.t += seconds

    def stop(self) -> None:
        self.watcher.remove()
        self.window.timer.stop()


def unlock_in_cover(qtbot, screen: LockScreen, username: str, password: str) -> None:
    cover = screen.covers()[0]
    cover.username.setText(username)
    cover.password.setText(password)
    qtbot.mouseClick(cover.unlock_button, Qt.MouseButton.LeftButton)


def test_idle_lock_hides_the_patient_everywhere_and_the_recording_goes_on(qtbot, db, people) -> None:
    h = Harness(qtbot, db, people)
    try:
        assert name_is_visible()  # the check below would see it if it were there
        h.idle(qtbot, 599)
        qtbot.wait(30)
        assert not h.screen.is_locked()
        with qtbot.waitSignal(h.screen.locked, timeout=10_000):
            h.idle(qtbot, 1)
        assert not name_is_visible(), [t for t in visible_texts() if NAME in t]
        assert h.window.windowTitle() == "TMS Session Console — locked"
        # The recording keeps going while locked, its label updated out of sight.
        counted = h.window.count
        qtbot.waitUntil(lambda: h.window.count > counted + 10, timeout=10_000)
        assert h.window.pulses.text() == f"{h.window.count} pulses" and not h.window.pulses.isVisible()
        # Whatever the program does meanwhile stays hidden.
        h.window.statusBar().show()
        h.window.patient.show()
        popup = QDialog(h.window)
        QVBoxLayout(popup).addWidget(QLabel(f"Device fault during {NAME}'s session", popup))
        popup.show()
        qtbot.waitExposed(popup)
        assert not name_is_visible(), [t for t in visible_texts() if NAME in t]
        assert len(h.screen.covers()) == 2  # the new window has its own unlock form
        assert not h.window.close() and h.window.isVisible()  # closing would stop the session
        # A wrong password: still locked, said plainly.
        unlock_in_cover(qtbot, h.screen, "tom", "not-my-password")
        assert h.screen.is_locked() and h.screen.covers()[0].error.text() == "Wrong user name or password."
        assert not name_is_visible()
        with qtbot.waitSignal(h.screen.unlocked, timeout=10_000) as unlocked:
            unlock_in_cover(qtbot, h.screen, "tom", PASSWORDS["tom"])
        assert [a.username if hasattr(a, "username") else a for a in unlocked.args] == ["tom", True]
        assert name_is_visible() and h.window.patient.isVisible() and popup.isVisible()
        assert h.window.windowTitle() == f"TMS Session Console — {NAME}"
        assert not h.watcher.idle_lock.is_locked() and h.switched == ["tom"]
        popup.close()
    finally:
        h.stop()


def test_another_person_can_take_over_a_locked_screen(qtbot, db, people) -> None:
    h = Harness(qtbot, db, people)
    try:
        with qtbot.waitSignal(h.screen.locked, timeout=10_000):
            h.idle(qtbot, 601)
        # A message that opens and is closed (and deleted) while the screen is locked.
        message = QDialog(h.window)
        message.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        message.show()
        message.close()
        qtbot.waitUntil(lambda: len(h.screen.covers()) == 2)
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        assert not isValid(message)
        with qtbot.waitSignal(h.screen.unlocked, timeout=10_000) as unlocked:
            unlock_in_cover(qtbot, h.screen, "sue", PASSWORDS["sue"])
        assert unlocked.args[0].username == "sue" and unlocked.args[1] is False
        assert h.current.username == "sue" and h.watcher.idle_lock.user_changed
    finally:
        h.stop()


def test_input_postpones_the_lock_and_a_locked_screen_takes_no_shortcuts(qtbot, db, people) -> None:
    h = Harness(qtbot, db, people)
    try:
        ctrl_p = (h.window.windowHandle(), Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClick(*ctrl_p)
        assert h.window.printed == 1
        h.idle(qtbot, 500)
        qtbot.keyClick(h.window.patient, Qt.Key.Key_A)  # the technician touches the keyboard
        h.idle(qtbot, 500)
        qtbot.wait(30)
        assert not h.screen.is_locked()
        h.watcher.lock_now()  # the Lock button
        assert h.screen.is_locked()
        qtbot.keyClick(*ctrl_p)
        assert h.window.printed == 1
        h.screen.try_unlock("tom", PASSWORDS["tom"])
        assert not h.screen.is_locked()
        qtbot.keyClick(*ctrl_p)
        assert h.window.printed == 2
    finally:
        h.stop()
