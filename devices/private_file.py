"""Files readable by their owner only: every file the program writes may hold patient data.

The database, its backups, handoff notes, session reports, exports and device
captures all carry patient records, so each is created with mode 0600 whatever
the umask (an ``open()`` under the usual umask 022 would leave it readable by
every account on the computer). An existing file that is overwritten or
appended to is tightened to 0600 too, before anything is written into it.

It lives in ``devices`` because that is the lowest layer that writes such a
file (the ``?capture=`` of a serial link); ``db``, ``console`` and ``cli``
import it from here, so there is one place that says how a private file is made.
On Windows the mode bits mean little (ACLs decide); the calls still work.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

PRIVATE_MODE = 0o600
_MODES = {"wb", "ab", "w", "a"}


def open_private(path: Path | str, mode: str = "wb", *, exclusive: bool = False,
                 encoding: str | None = None, newline: str | None = None,
                 errors: str | None = None) -> IO[Any]:
    """Open ``path`` for writing (``wb``, ``ab``, ``w`` or ``a``) as a file only its owner can read.

    A new file is created 0600; an existing one is made 0600 before it is
    truncated (``w``) or appended to (``a``), so no moment exists where its
    new content is readable by others. ``exclusive`` refuses an existing file
    (FileExistsError). Errors are the OSError of the operation that failed.
    """
    if mode not in _MODES:
        raise ValueError(f"open_private: mode must be one of {sorted(_MODES)}, not {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    if mode.startswith("a"):
        flags |= os.O_APPEND
    if exclusive:
        flags |= os.O_EXCL
    fd = os.open(path, flags, PRIVATE_MODE)
    try:
        if hasattr(os, "fchmod"):  # POSIX: an existing file keeps its old mode through os.open
            os.fchmod(fd, PRIVATE_MODE)
        if mode.startswith("w"):
            os.ftruncate(fd, 0)  # only now: a file we could not make private keeps its content
        if "b" in mode:
            return os.fdopen(fd, mode)
        return os.fdopen(fd, mode, encoding=encoding or "utf-8", newline=newline, errors=errors)
    except BaseException:
        os.close(fd)
        raise


def create_private(path: Path | str, *, exclusive: bool = False) -> None:
    """Create ``path`` empty (or empty an existing one) as a file only its owner can read.

    For writers that open the file themselves afterwards (SQLite, Qt's PDF
    writer): they keep the mode of a file that exists, so it is made here first.
    """
    open_private(path, "wb", exclusive=exclusive).close()
