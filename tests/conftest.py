"""Test harness: Qt offscreen before Qt loads, settings kept per test, and no
thread or QThread allowed to outlive its test (a QThread alive at interpreter
exit aborts the process with status 134 after pytest printed "passed")."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_CHECKOUT = ROOT.parent / "shared"
VENDORED = ROOT / "tests" / "fixtures"
# The protocol files live in ../shared; the tests carry a copy so a bare clone
# still tests (tests/test_shared_copies.py fails when the copy drifts).
SHARED = SHARED_CHECKOUT if (SHARED_CHECKOUT / "protocol").is_dir() else VENDORED
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """QSettings and platformdirs point into tmp_path: tests never touch the user's files."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))


FAST_HASHER_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
"""Argon2id with small parameters (1 pass over 1 MiB): a test that logs in or signs twenty
times stays quick. The shipped parameters are checked in tests/accounts/test_accounts.py."""


def fast_password_hasher():  # -> argon2.PasswordHasher
    from argon2 import PasswordHasher

    return PasswordHasher(**FAST_HASHER_PARAMS)


@pytest.fixture
def fast_hasher(monkeypatch: pytest.MonkeyPatch):
    """Accounts made in this test hash with the fast parameters."""
    from console.people import login as people_login
    from console.people import passwords
    hasher = fast_password_hasher()
    monkeypatch.setattr(passwords, "HASHER", hasher)
    monkeypatch.setattr(people_login, "_dummy_hash", None)
    return hasher


_started_qthreads: list = []


def _track_qthreads() -> None:
    """Record every QThread started, so a test that leaves one running fails."""
    if "PySide6.QtCore" not in sys.modules:
        return
    from PySide6.QtCore import QThread

    if getattr(QThread.start, "_tracked", False):
        return
    original = QThread.start

    def start(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        _started_qthreads.append(self)
        return original(self, *args, **kwargs)

    start._tracked = True  # type: ignore[attr-defined]
    QThread.start = start  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _no_leftover_threads():
    before = set(threading.enumerate())
    _track_qthreads()
    yield
    _track_qthreads()
    deadline = time.monotonic() + 2.0
    leftover: list[str] = []
    while True:
        leftover = [
            t.name for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.daemon
        ]
        running_q = []
        for qt in list(_started_qthreads):
            try:
                if qt.isRunning():
                    running_q.append(qt)
            except RuntimeError:  # C++ object already deleted: not running
                _started_qthreads.remove(qt)
        if not leftover and not running_q:
            _started_qthreads.clear()
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    _started_qthreads.clear()
    pytest.fail(
        f"test left threads running: {leftover} and {len(running_q)} QThread(s); "
        "stop and join them before the test ends"
    )


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common default umask (files 0644 unless the program says otherwise); subprocesses inherit it,
    so a test of "patient files are 0600" cannot pass by the test runner's own stricter umask."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)
