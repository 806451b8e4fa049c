"""The lock screen: hides every window's content until a password is confirmed.

Locking does not paint over the screen, it *hides* the widgets: every visible
window's own children are hidden and a :class:`LockCover` with the unlock
form takes their place. A hidden parent hides everything inside it, so no
label that a timer keeps updating (pulse counts, the patient's name) can
show through, whatever the window does meanwhile. While locked:

- a window that opens (a fault message, a dialog) is covered as it opens;
- a window's child that the program shows again is hidden again;
- keyboard shortcuts and input to anything but a cover are dropped, and the
  main window refuses to close (it would stop a session);
- timers and threads go on: a session keeps recording.

The same person unlocks with their password, or another person logs in and
takes over the screen (:attr:`LockScreen.unlocked` carries who). Wrong
passwords count towards the account lockout, as at the log-in screen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from console.errors import ClinicError
from console.people.user import User
from console.ui.people.idle_watcher import IdleWatcher
from console.ui.widgets.application import running_app

log = logging.getLogger(__name__)

LOCKED_TITLE = "TMS Session Console — locked"

_INPUT = {
    QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.Shortcut, QEvent.Type.ShortcutOverride,
    QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick,
    QEvent.Type.Wheel, QEvent.Type.ContextMenu, QEvent.Type.TouchBegin, QEvent.Type.Drop,
}
_TRANSIENT = (Qt.WindowType.Popup, Qt.WindowType.ToolTip)


class LockCover(QWidget):
    """What a locked window shows: who locked it, and the unlock form."""

    def __init__(self, window: QWidget, user: User, on_unlock: Callable[[LockCover], None]) -> None:
        super().__init__(window)
        self.setObjectName("lockCover")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("QWidget#lockCover { background: #1b2128; }")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        panel = QFrame(self)
        panel.setObjectName("panel")
        panel.setMaximumWidth(520)
        form = QVBoxLayout(panel)
        form.setSpacing(10)
        title = QLabel("Screen locked", panel)
        title.setObjectName("screenTitle")
        form.addWidget(title)
        self.who = QLabel(
            f"Locked at {datetime.now():%H:%M} while {user.full_name} was logged in. "
            "Patient information is hidden; a session in progress keeps recording.", panel)
        self.who.setObjectName("hint")
        self.who.setWordWrap(True)
        form.addWidget(self.who)
        self.status = QLabel(panel)
        self.status.setObjectName("subValue")
        self.status.setWordWrap(True)
        self.status.hide()
        form.addWidget(self.status)
        self.username = QLineEdit(user.username, panel)
        self.username.setPlaceholderText("User name")
        self.username.setMaxLength(32)
        self.password = QLineEdit(panel)
        self.password.setPlaceholderText("Password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addWidget(QLabel("User name (another person may log in here)", panel))
        form.addWidget(self.username)
        form.addWidget(QLabel("Password", panel))
        form.addWidget(self.password)
        self.error = QLabel(panel)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        form.addWidget(self.error)
        row = QHBoxLayout()
        row.addStretch(1)
        self.unlock_button = QPushButton("Unlock", panel)
        self.unlock_button.setObjectName("primary")
        row.addWidget(self.unlock_button)
        form.addLayout(row)
        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(panel, 3)
        centre.addStretch(1)
        outer.addLayout(centre)
        outer.addStretch(2)
        self.unlock_button.clicked.connect(lambda: on_unlock(self))
        self.password.returnPressed.connect(lambda: on_unlock(self))
        self.username.returnPressed.connect(self.password.setFocus)
        self.setGeometry(window.rect())

    def show_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))


class LockScreen(QObject):
    """Locks every window of the application; ``host`` is the main window.

    ``authenticate(username, password) -> User`` raises a ClinicError
    (``console.people.accounts.AuthError``) with the message to show.
    """

    unlocked = Signal(object, bool)
    """Emitted with the User who unlocked, and whether it is the person who was logged in
    (False: another person took over the screen)."""
    locked = Signal()

    def __init__(self, host: QWidget, authenticate: Callable[[str, str], User]) -> None:
        super().__init__(host)
        self._host = host
        self._authenticate = authenticate
        self._user: User | None = None
        self._covers: dict[QWidget, LockCover] = {}
        self._hidden: dict[QWidget, list[QWidget]] = {}
        self._titles: dict[QWidget, str] = {}
        self._status = ""

    def is_locked(self) -> bool:
        return self._user is not None

    @property
    def locked_user(self) -> User | None:
        return self._user

    def covers(self) -> list[LockCover]:
        return list(self._covers.values())

    def lock(self, user: User) -> None:
        """Hide all patient information now; ``user`` is who was logged in."""
        if self._user is not None:
            return
        self._user = user
        QToolTip.hideText()
        app = running_app()
        app.installEventFilter(self)
        windows = [self._host] + [w for w in app.topLevelWidgets() if w is not self._host]
        for window in windows:
            if window.isVisible() or window is self._host:
                self._cover(window)
        focus = self._covers[self._host].password
        focus.setFocus()
        log.info("screen locked (%s was logged in)", user.username)
        self.locked.emit()

    def set_status(self, text: str) -> None:
        """A line without patient information for the cover, e.g. "Session recording: 1200 pulses"."""
        self._status = text
        for cover in self._covers.values():
            cover.status.setText(text)
            cover.status.setVisible(bool(text))

    def try_unlock(self, username: str, password: str) -> User:
        """Unlock with a user name and password; raises ClinicError (AuthError) when refused."""
        if self._user is None:
            raise ClinicError("The screen is not locked.")
        if not username.strip():
            raise ClinicError("Enter a user name.")
        user = self._authenticate(username, password)
        same_person = user.id == self._user.id
        self._restore()
        log.info("screen unlocked by %s%s", user.username, "" if same_person else " (took over)")
        self.unlocked.emit(user, same_person)
        return user

    # --- covering and uncovering ----------------------------------------------------------------

    def _cover(self, window: QWidget) -> None:
        user = self._user
        if user is None or window in self._covers:  # only lock() covers, after it set who was in
            return
        if window.windowType() in _TRANSIENT:
            window.hide()  # an open menu or tooltip just closes
            return
        direct = window.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
        hidden = [child for child in direct if not child.isWindow() and not child.isHidden()]
        for child in hidden:
            child.hide()
        self._hidden[window] = hidden
        self._titles[window] = window.windowTitle()
        window.setWindowTitle(LOCKED_TITLE)
        cover = LockCover(window, user, self._on_unlock_clicked)
        cover.status.setText(self._status)
        cover.status.setVisible(bool(self._status))
        self._covers[window] = cover
        cover.show()
        cover.raise_()

    def _restore(self) -> None:
        running_app().removeEventFilter(self)
        for window, cover in list(self._covers.items()):
            if not isValid(window):
                continue  # a window closed and deleted while locked
            if isValid(cover):
                cover.hide()
                cover.deleteLater()
            for child in self._hidden.get(window, []):
                if isValid(child):
                    child.show()
            window.setWindowTitle(self._titles.get(window, window.windowTitle()))
        self._covers.clear()
        self._hidden.clear()
        self._titles.clear()
        self._user = None

    def _on_unlock_clicked(self, cover: LockCover) -> None:
        password = cover.password.text()
        cover.password.clear()
        try:
            self.try_unlock(cover.username.text(), password)
        except ClinicError as exc:
            cover.show_error(str(exc))
            cover.password.setFocus()

    def _inside_cover(self, widget: QWidget) -> bool:
        return any(cover is widget or cover.isAncestorOf(widget) for cover in self._covers.values())

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if self._user is None:
            return False
        kind = event.type()
        if kind == QEvent.Type.Shortcut:
            return True  # menu and window shortcuts (print, pause...) wait for the unlock
        if not isinstance(obj, QWidget):
            return False
        if kind == QEvent.Type.Show:
            if obj.isWindow() and obj not in self._covers:
                self._cover(obj)
            elif (parent := obj.parentWidget()) in self._covers and not self._inside_cover(obj):
                assert parent is not None  # it is a key of _covers
                obj.hide()  # the program showed a part of a locked window again
                self._hidden[parent].append(obj)
            return False
        if kind == QEvent.Type.Resize and obj in self._covers:
            self._covers[obj].setGeometry(obj.rect())
            return False
        if kind == QEvent.Type.Close and obj is self._host:
            event.ignore()  # closing would stop a session; unlock first
            return True
        # Input goes to the unlock form only.
        return kind in _INPUT and not self._inside_cover(obj)


def connect_idle_lock(watcher: IdleWatcher, screen: LockScreen, current_user: Callable[[], User | None],
                      on_user: Callable[[User], None]) -> None:
    """Wire an :class:`IdleWatcher` to a :class:`LockScreen`: the main window's one call.

    When the watcher says "idle", the screen locks for ``current_user()``
    (nobody logged in: nothing to hide, the watcher starts again); when
    someone unlocks, the watcher starts counting again and ``on_user(user)``
    tells the window who is logged in now (another person may have taken over).
    """
    def lock() -> None:
        user = current_user()
        if user is None:
            watcher.unlock(True)
        else:
            screen.lock(user)

    def unlocked(user: User, same_person: bool) -> None:
        watcher.unlock(same_person)
        on_user(user)

    watcher.locked.connect(lock)
    screen.unlocked.connect(unlocked)
