"""The session lock on Windows (``msvcrt.locking``), run here through an emulation of it.

The guarantee is the POSIX one: a session whose lock is held is never
recovered as interrupted, and a lock dies with its process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from db import session_lock
from db.recovery import mark_interrupted_sessions
from db.session_lock import MsvcrtLocks, SessionLock, SessionLockHeld, is_session_live, lock_path
from tests.db import fake_msvcrt
from tests.db.helpers import ROOT, Child, new_db_with_session


@pytest.fixture
def windows_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_lock, "LOCKS", MsvcrtLocks(fake_msvcrt))


@pytest.mark.usefixtures("windows_locks")
def test_a_session_locked_by_another_process_is_not_recovered_until_that_process_dies(
    tmp_path: Path,
) -> None:
    path = tmp_path / "clinic.db"
    db, sid = new_db_with_session(path)
    child = Child(f"""
        import time
        from db import session_lock
        from tests.db import fake_msvcrt
        session_lock.LOCKS = session_lock.MsvcrtLocks(fake_msvcrt)
        lock = session_lock.SessionLock({str(path)!r}, {sid})
        lock.acquire()
        print("LOCKED", flush=True)
        time.sleep(600)
    """)
    try:
        child.wait_for("LOCKED")
        assert is_session_live(path, sid)
        assert mark_interrupted_sessions(db, path) == []
        assert db.execute("SELECT status FROM sessions WHERE id = ?", [sid]).fetchone()[0] == "recording"
        # the holder's text stays readable (the locked byte lies past it), so the message names it
        with pytest.raises(SessionLockHeld, match=f"pid {child.proc.pid} on "):
            SessionLock(path, sid, wait_s=0.1).acquire()
        assert lock_path(path, sid).stat().st_size < 200  # no write landed at the locked offset
    finally:
        child.kill()  # SIGKILL: no clean-up runs, the operating system drops the lock
    assert not is_session_live(path, sid)
    assert mark_interrupted_sessions(db, path) == [sid]
    assert not lock_path(path, sid).exists()
    db.close()


@pytest.mark.usefixtures("windows_locks")
def test_a_session_locked_by_this_process_is_live_and_cannot_be_locked_twice(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    db, sid = new_db_with_session(path)
    with SessionLock(path, sid) as lock:
        assert lock.held and is_session_live(path, sid)
        assert not SessionLock(path, sid).try_acquire()
        assert lock_path(path, sid).read_text(encoding="utf-8").startswith(f"pid {os.getpid()} on ")
    assert not is_session_live(path, sid)
    assert not lock_path(path, sid).exists()
    assert mark_interrupted_sessions(db, path) == [sid]
    db.close()


def test_without_fcntl_the_lock_is_msvcrt_locking() -> None:
    """What Windows gets: the module imports and chooses msvcrt.locking."""
    script = (
        "import sys\n"
        "from tests.db import fake_msvcrt\n"
        "sys.modules['fcntl'] = None\n"
        "sys.modules['msvcrt'] = fake_msvcrt\n"
        "from db import session_lock\n"
        "print(type(session_lock.LOCKS).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "MsvcrtLocks"
