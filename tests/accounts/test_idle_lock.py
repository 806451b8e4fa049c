"""The idle-lock rule, with a clock the test moves."""

from __future__ import annotations

from console.clinic.idle_lock import IdleLock, idle_timeout_s


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_locks_after_the_idle_time_and_input_postpones_it() -> None:
    clock = FakeClock()
    lock = IdleLock(600, clock=clock)
    clock.t += 599
    assert not lock.is_locked() and lock.remaining_s() == 1
    lock.activity()
    clock.t += 599
    assert not lock.is_locked()
    clock.t += 1
    assert lock.is_locked()


def test_only_a_password_unlocks_and_the_idle_time_starts_again() -> None:
    clock = FakeClock()
    lock = IdleLock(60, clock=clock)
    lock.lock()
    lock.activity()  # moving the mouse over a locked screen does not unlock it
    assert lock.is_locked()
    clock.t += 3600
    lock.unlock(user_matches=False)
    assert not lock.is_locked() and lock.user_changed
    clock.t += 59
    assert not lock.is_locked()
    lock.unlock(user_matches=True)
    assert not lock.user_changed


def test_no_timeout_means_no_automatic_lock_and_the_timeout_can_change() -> None:
    clock = FakeClock()
    lock = IdleLock(None, clock=clock)
    clock.t += 10**6
    assert not lock.is_locked() and lock.remaining_s() is None
    lock.set_timeout(30)
    assert lock.is_locked()


def test_the_clinic_setting_gives_ten_minutes_by_default(db) -> None:
    assert idle_timeout_s(db) == 600
