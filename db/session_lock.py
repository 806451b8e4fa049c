"""Who is recording a session right now: a file lock that dies with its process.

A live recorder holds an exclusive ``flock`` on ``<db>.locks/session-<id>.lock``.
The kernel drops the lock when the process ends in any way (exit, crash,
``kill -9``, power loss), so at the next start a session still in
``recording`` whose lock nobody holds was interrupted, while a session whose
lock is held is being recorded by another process on this computer and must
not be touched. (The lock is local to the machine: the database is meant to
live on the chair's own disk; see :func:`db.database.connect`.)

A session row must never be visible in ``recording`` without its lock held, or
another process starting at that instant could take it for interrupted:
:func:`begin_locked_session` inserts the row, takes the lock, and only then
commits.

The lock is ``flock`` on POSIX and ``msvcrt.locking`` on Windows; both are
dropped by the operating system when the holding process ends, which is the
whole guarantee. The module imports on either (see :func:`platform_locks`).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Protocol

import sqlite_utils

from db.database import write_transaction

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows (and tests/test_portable_imports.py)
    fcntl = None  # type: ignore[assignment]  # a module or None: mypy gives a name one type
try:  # Windows
    import msvcrt
except ImportError:
    msvcrt = None  # type: ignore[assignment]  # a module or None: mypy gives a name one type

log = logging.getLogger(__name__)

_BINARY = getattr(os, "O_BINARY", 0)  # Windows would otherwise write the holder's text with CR LF


class SessionLockHeld(RuntimeError):
    """Another process is recording this session."""


def lock_dir(db_path: Path | str) -> Path:
    """The folder of session locks beside the database file."""
    real = Path(os.path.realpath(db_path))
    return real.with_name(real.name + ".locks")


def lock_path(db_path: Path | str, session_id: int) -> Path:
    return lock_dir(db_path) / f"session-{int(session_id)}.lock"


class FileLocks(Protocol):
    """How this platform locks an open file without waiting; the lock dies with the process."""

    unlink_while_held: bool
    """Whether a lock file can be removed while still locked (POSIX yes, Windows no)."""

    def try_lock(self, fd: int, *, shared: bool) -> bool:
        """Lock ``fd``; False at once when another holder has it."""

    def unlock(self, fd: int) -> None: ...


class FlockLocks:
    """POSIX: ``flock`` on the whole file, exclusive for a recorder, shared for a look."""

    unlink_while_held = True

    def try_lock(self, fd: int, *, shared: bool) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True

    def unlock(self, fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class MsvcrtLocks:
    """Windows: ``msvcrt.locking`` of one byte far past the holder's text.

    Windows locks byte ranges, always exclusively, and a locked byte cannot
    even be read by others: locking a byte beyond the text keeps "pid N on
    HOST" readable for the message that names the holder. A look
    (:func:`is_session_live`) therefore holds the lock for an instant, which
    :meth:`SessionLock.acquire` waits out as it does on POSIX. Any failure to
    lock counts as "held": a session wrongly thought live is left for the next
    start, whereas one wrongly thought interrupted would be closed under its
    recorder.
    """

    OFFSET = 1 << 30
    unlink_while_held = False  # Windows refuses to remove a file that is open

    def __init__(self, module: ModuleType) -> None:
        self._msvcrt = module

    def try_lock(self, fd: int, *, shared: bool) -> bool:
        os.lseek(fd, self.OFFSET, os.SEEK_SET)
        try:
            self._msvcrt.locking(fd, self._msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def unlock(self, fd: int) -> None:
        os.lseek(fd, self.OFFSET, os.SEEK_SET)
        self._msvcrt.locking(fd, self._msvcrt.LK_UNLCK, 1)


class NoLocks:
    """A platform with neither lock: say so when a lock is needed, not when the program starts."""

    unlink_while_held = True

    def try_lock(self, fd: int, *, shared: bool) -> bool:
        raise OSError("this computer offers no file lock (neither fcntl nor msvcrt), so a session "
                      "cannot be recorded safely")

    def unlock(self, fd: int) -> None:  # pragma: no cover - nothing is ever locked
        pass


def platform_locks() -> FileLocks:
    """The file locks of this platform: flock on POSIX, msvcrt.locking on Windows."""
    if fcntl is not None:
        return FlockLocks()
    if msvcrt is not None:
        return MsvcrtLocks(msvcrt)
    return NoLocks()


LOCKS: FileLocks = platform_locks()


class SessionLock:
    """The lock a live recorder holds on its session (a context manager).

    ``acquire`` retries for ``wait_s`` seconds, because :func:`is_session_live`
    in another process may hold the lock for a few microseconds while it looks.
    """

    def __init__(self, db_path: Path | str, session_id: int, *, wait_s: float = 1.0) -> None:
        self.db_path = Path(db_path)
        self.session_id = int(session_id)
        self.path = lock_path(db_path, session_id)
        self.wait_s = wait_s
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False at once when somebody does."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _BINARY, 0o600)
            if not LOCKS.try_lock(fd, shared=False):
                os.close(fd)
                return False
            # The file may have been removed by its last holder between our open
            # and our lock; a lock on a removed file guards nothing, so retry.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
        self._fd = fd
        return True

    def acquire(self) -> None:
        """Take the lock, or raise :class:`SessionLockHeld` naming who holds it."""
        deadline = time.monotonic() + self.wait_s
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise SessionLockHeld(
                    f"Session {self.session_id} is being recorded by another program "
                    f"({self._holder() or 'holder unknown'}); it cannot be recorded twice."
                )
            time.sleep(0.02)

    # No __del__ on purpose: a lock object dropped by mistake keeps its lock until the
    # process ends, which is safe; releasing it then would let another process take a
    # live session for interrupted.

    def release(self, *, remove: bool = True) -> None:
        """Let go of the lock (idempotent); the lock file is removed unless ``remove`` is False."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if not LOCKS.unlink_while_held:
            # Windows: an open file cannot be removed, so let go first; while anybody else has it
            # open (a look, a new holder) it cannot vanish under them, and it simply stays.
            try:
                LOCKS.unlock(fd)
            finally:
                os.close(fd)
            if remove:
                with contextlib.suppress(PermissionError, FileNotFoundError):
                    self.path.unlink()
            return
        try:
            if remove:
                # Remove while still holding it, so nobody can take a lock on a file about to vanish.
                self.path.unlink(missing_ok=True)
        finally:
            LOCKS.unlock(fd)
            os.close(fd)

    def _holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def __enter__(self) -> SessionLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_session_live(db_path: Path | str, session_id: int) -> bool:
    """True when some process (this one included) holds the session's lock."""
    path = lock_path(db_path, session_id)
    try:
        fd = os.open(path, os.O_RDONLY | _BINARY)
    except FileNotFoundError:
        return False
    try:
        if LOCKS.try_lock(fd, shared=True):
            LOCKS.unlock(fd)
            return False
        return True
    finally:
        os.close(fd)


def begin_locked_session(
    db: sqlite_utils.Database, db_path: Path | str, row: dict,
    before_commit: Callable[[sqlite_utils.Database, int], None] | None = None,
) -> tuple[int, SessionLock]:
    """Insert a session row (status ``recording``) and return its id with its lock held.

    The lock is taken before the row is committed, so no other process ever
    sees the session recording without a live holder. ``before_commit`` may
    write more in the same transaction (a first session event, an audit row).
    """
    row = {**row, "status": "recording"}
    row.setdefault("recorder_pid", os.getpid())
    row.setdefault("recorder_host", socket.gethostname())
    lock: SessionLock | None = None
    try:
        with write_transaction(db):
            last_pk = db.table("sessions").insert(row).last_pk
            if last_pk is None:
                raise RuntimeError("the new session row has no id")
            session_id = int(last_pk)
            lock = SessionLock(db_path, session_id)
            lock.acquire()
            if before_commit is not None:
                before_commit(db, session_id)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return session_id, lock
