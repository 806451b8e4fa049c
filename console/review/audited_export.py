"""Exports written out and audited together: who took which record, when, in what format, where.

An export takes a patient's record out of the console, so it is audited
wherever it is made: the review window, ``python main.py export`` and ``python
main.py review export-csv`` call :func:`export_session` and
:func:`export_review_list`, and none of them writes the file or the audit row
itself. A PDF report is drawn by the widgets (it needs Qt), but its audit row
is written here too (:func:`record_report_written`). The file is written
beside its target and renamed into place inside the transaction that writes
the audit row, so an export never takes its name without its row (and a failed
audit leaves no file). Output to a stream (stdout) is made in memory and
audited before it is written: the write lock is never held while a slow reader
drains a pipe, since the chair may be recording into the same database.

The window and the command line alike export as an authenticated clinic user
(the command line's ``--user``, cli.auth) allowed to export sessions; the
audit row names that user.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import sqlite_utils

from console.audit import audit, write_transaction
from console.people.permissions import require
from console.people.user import User
from console.review import queue
from console.review.export import ExportError, find_session, write_csv, write_json
from console.review.queue import ReviewList

log = logging.getLogger(__name__)

FORMATS = ("json", "csv")
T = TypeVar("T")
TO_STREAM = "standard output"


@dataclass(frozen=True)
class ExportDone:
    """What was exported and where, as the audit row says it."""

    session_id: int
    format: str
    to: str  # the file's full path, or "standard output"


def export_session(db: sqlite_utils.Database, ref: int | str, fmt: str, *, by: User | None,
                   path: Path | str | None = None, out: IO[str] | None = None) -> ExportDone:
    """Write session ``ref`` (local id or UUID) as ``fmt`` to ``path`` or ``out``, with its audit row.

    A clinic user needs the ``export_sessions`` permission (PermissionDenied
    otherwise, before anything is read). A session that does not exist is ExportError and
    leaves neither a file nor a row.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
    if (path is None) == (out is None):
        raise ValueError("give exactly one of path and out")
    actor = _permitted(by)
    session = find_session(db, ref)
    if path is not None:
        target = Path(path).expanduser().absolute()
        _write_file(db, session, fmt, target, actor)
        return ExportDone(session["id"], fmt, str(target))
    text = io.StringIO()
    _render(db, session, fmt, text)
    _audit(db, session, fmt, TO_STREAM, actor)
    if out is not None:  # always, by the check above; written only once its row is committed
        out.write(text.getvalue())
    return ExportDone(session["id"], fmt, TO_STREAM)


def _permitted(user: User | None) -> User:
    require(user, "export_sessions")
    return cast(User, user)  # require() refused None ("Log in to export sessions.")


def _render(db: sqlite_utils.Database, session: dict[str, Any], fmt: str, out: IO[str]) -> None:
    if fmt == "json":
        write_json(db, session["id"], out)
    else:
        write_csv(db, session["id"], out)


def _write_file(db: sqlite_utils.Database, session: dict[str, Any], fmt: str, target: Path,
                by: User) -> None:
    _write_audited(db, target, lambda f: _render(db, session, fmt, f),
                   lambda _: _audit(db, session, fmt, str(target), by))


def _write_audited(db: sqlite_utils.Database, target: Path, render: Callable[[IO[str]], T],
                   audit_row: Callable[[T], None]) -> T:
    """Write beside the target, then audit and rename in one transaction: no file without its row."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            result = render(f)
        with write_transaction(db):
            audit_row(result)
            os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result


def _audit(db: sqlite_utils.Database, session: dict[str, Any], fmt: str, to: str,
           by: User) -> None:
    new: dict[str, Any] = {"format": fmt, "to": to, "session_uuid": session["uuid"]}
    audit(db, by, "export_session", "session", session["id"], None, new)
    log.info("session %s exported as %s to %s by %s", session["id"], fmt, to, by.username)


def export_review_list(db: sqlite_utils.Database, listed: ReviewList, path: Path | str, *,
                       by: User | None) -> int:
    """The review list as filtered, as CSV at ``path``, with its audit row; returns the rows written."""
    actor = _permitted(by)
    target = Path(path).expanduser().absolute()
    wanted = {k: str(v) for k, v in vars(listed.filter).items() if v}

    def row(n: int) -> None:
        audit(db, actor, "export_review_list", "review_list", None, None,
              {"rows": n, "filter": wanted, "to": str(target)})

    n = _write_audited(db, target, lambda f: queue.write_csv(db, listed, f), row)
    log.info("review list (%d rows) exported to %s by %s", n, target, actor.username)
    return n


def record_report_written(db: sqlite_utils.Database, user: User | None, session_id: int, path: Path | str,
                          pages: int) -> None:
    """The audit row of a session's PDF report, which the widgets drew at ``path``."""
    require(user, "view_records")
    with write_transaction(db):
        audit(db, user, "print_session_report", "session", session_id, None,
              {"pages": pages, "to": str(Path(path).expanduser().absolute())})


__all__ = ["ExportDone", "ExportError", "export_review_list", "export_session",
           "record_report_written"]
