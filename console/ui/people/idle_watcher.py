"""Feeds the idle lock from the person's input and says when the screen must lock.

Installed once on the application, it sees every key, click, wheel turn and
mouse movement (before any widget does) and reports it to the plain-Python
:class:`~console.clinic.idle_lock.IdleLock`; a timer asks the lock once a second
whether the idle time has run out. Tests move a fake clock and call
:meth:`IdleWatcher.poll` instead of waiting.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from console.clinic.idle_lock import IdleLock
from console.ui.widgets.application import running_app

log = logging.getLogger(__name__)

ACTIVITY = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TabletPress,
})


class IdleWatcher(QObject):
    """Emits :attr:`locked` when the person has been idle too long, :attr:`unlocked` after
    :meth:`unlock`."""

    locked = Signal()
    unlocked = Signal()

    def __init__(self, idle_lock: IdleLock, poll_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.idle_lock = idle_lock
        self._reported = False
        self._app: QApplication | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)

    def install(self, app: QApplication | None = None) -> None:
        """Start watching the application's input and polling the lock."""
        self._app = app or running_app()
        self._app.installEventFilter(self)
        self._timer.start()

    def remove(self) -> None:
        """Stop watching (the window closes)."""
        self._timer.stop()
        if self._app is not None:
            self._app.removeEventFilter(self)
            self._app = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY:
            self.idle_lock.activity()
        return False

    def poll(self) -> None:
        """Emit :attr:`locked` once when the lock says the idle time is up."""
        if not self._reported and self.idle_lock.is_locked():
            self._reported = True
            self.locked.emit()

    def lock_now(self) -> None:
        """The person asked to lock (a Lock button or shortcut)."""
        self.idle_lock.lock()
        self.poll()

    def set_timeout(self, timeout_s: float | None) -> None:
        self.idle_lock.set_timeout(timeout_s)

    def unlock(self, user_matches: bool) -> None:
        """A password was confirmed; the idle time counts again."""
        self.idle_lock.unlock(user_matches)
        self._reported = False
        self.unlocked.emit()
