"""``msvcrt.locking`` as Windows behaves, built on POSIX byte-range locks, so the Windows path runs here.

Windows byte-range locks are exclusive and conflict between processes and
between two handles of one process; ``lockf`` gives the first, a table of
this process's locked ranges the second. (POSIX drops a process's ``lockf``
locks when it closes any handle of the file, so a holder here must not open
its lock file twice: the tests hold locks in a child process that does not.)
"""

from __future__ import annotations

import errno
import fcntl
import os

LK_UNLCK, LK_LOCK, LK_NBLCK = 0, 1, 2

_held: dict[tuple[int, int, int], int] = {}


def locking(fd: int, mode: int, nbytes: int) -> None:
    pos = os.lseek(fd, 0, os.SEEK_CUR)
    st = os.fstat(fd)
    key = (st.st_dev, st.st_ino, pos)
    if mode == LK_UNLCK:
        if _held.get(key) != fd:
            raise OSError(errno.EACCES, "Permission denied")
        del _held[key]
        fcntl.lockf(fd, fcntl.LOCK_UN, nbytes, pos)
        return
    if mode != LK_NBLCK:
        raise NotImplementedError("only the non-blocking lock is emulated")
    if key in _held:
        raise OSError(errno.EACCES, "Permission denied")
    writable = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_RDONLY
    try:
        fcntl.lockf(fd, (fcntl.LOCK_EX if writable else fcntl.LOCK_SH) | fcntl.LOCK_NB, nbytes, pos)
    except OSError:
        raise OSError(errno.EACCES, "Permission denied") from None
    _held[key] = fd
