"""When the screen locks itself: after a set time without input (automatic logoff).

Pure logic with an injectable clock, so it is tested without waiting and
without a screen; ``console.ui.people.idle_watcher`` feeds it the person's input and
``console.ui.people.lock_screen`` does the hiding. Locking never stops a session:
the recording runs beside the screen, not in it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import sqlite_utils

log = logging.getLogger(__name__)

DEFAULT_IDLE_MINUTES = 10


class IdleLock:
    """Locked after ``timeout_s`` seconds without :meth:`activity`; unlocked only by a password.

    ``timeout_s`` of None or <= 0 switches the automatic lock off (:meth:`lock` still works).
    """

    def __init__(self, timeout_s: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._timeout_s = timeout_s
        self._last_activity = clock()
        self._locked = False
        self.user_changed = False
        """After :meth:`unlock`: whether another person unlocked (the program switches user)."""

    @property
    def timeout_s(self) -> float | None:
        return self._timeout_s

    def set_timeout(self, timeout_s: float | None) -> None:
        """A new idle time (the clinic changed the setting); counts from the last input."""
        self._timeout_s = timeout_s

    def activity(self) -> None:
        """The person touched the keyboard, mouse or screen. Ignored while locked: only a
        password unlocks."""
        if not self._locked:
            self._last_activity = self._clock()

    def idle_s(self) -> float:
        """Seconds since the last input."""
        return self._clock() - self._last_activity

    def remaining_s(self) -> float | None:
        """Seconds until the automatic lock, or None when it is off or already locked."""
        if self._locked or not self._timeout_s or self._timeout_s <= 0:
            return None
        return max(0.0, self._timeout_s - self.idle_s())

    def is_locked(self) -> bool:
        """Whether the screen must be locked now (locks when the idle time has run out)."""
        if not self._locked and self.remaining_s() == 0.0:
            log.info("screen locked after %.0f s without input", self.idle_s())
            self._locked = True
        return self._locked

    def lock(self) -> None:
        """Lock now (the person pressed Lock, or walked away)."""
        self._locked = True

    def unlock(self, user_matches: bool) -> None:
        """A password was confirmed: by the same person (``user_matches``) or by another one,
        who takes over the screen. The idle time starts again."""
        self._locked = False
        self.user_changed = not user_matches
        self._last_activity = self._clock()


def idle_timeout_s(db: sqlite_utils.Database) -> float:
    """The clinic's idle time before the screen locks, in seconds (setting idle_lock_minutes)."""
    from console.clinic.settings import get_setting

    return float(get_setting(db, "idle_lock_minutes")) * 60.0
