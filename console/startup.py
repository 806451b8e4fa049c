"""What the program checks and opens before its window: resources, then the record store.

The GUI's composition root (``console/ui/app.py``) calls :func:`start` and shows
a :class:`StartupFailed` message to the person instead of a traceback; widgets
never open the database or read resource files themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from console.resource_data import ResourceError, validate_all
from console.store import Store
from db.database import DatabaseUnusable, open_database
from db.recovery import mark_interrupted_sessions


class StartupFailed(Exception):
    """The program cannot start; the message says which file, what is wrong and what to do."""


@dataclass
class Started:
    """The open store and the sessions a previous stop of the program left running (now interrupted)."""

    store: Store
    interrupted: list[int] = field(default_factory=list)


def check_resources() -> None:
    """Every clinic resource file read and checked now, so a typo stops the start with its file and
    field named, not a KeyError later in the middle of a session."""
    try:
        validate_all()
    except ResourceError as exc:
        raise StartupFailed(str(exc)) from exc


def open_store(path: Path | str) -> Started:
    """The database at ``path`` opened (checked, migrated) and sessions a crash left behind marked
    interrupted, so the chair never shows a session as still running."""
    try:
        store = open_database(Path(path))
    except DatabaseUnusable as exc:
        raise StartupFailed(str(exc)) from exc
    try:
        interrupted = mark_interrupted_sessions(store, path)
    except BaseException:
        store.close()
        raise
    return Started(store, interrupted)


def start(path: Path | str) -> Started:
    """:func:`check_resources`, then :func:`open_store`; raises :class:`StartupFailed`."""
    check_resources()
    return open_store(path)
