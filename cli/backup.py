"""``backup DEST``: a consistent copy of the database, safe while the console is recording.

Uses SQLite's online backup API (``sqlite3.Connection.backup``), which copies
one consistent snapshot even while another connection writes. The copy is
written beside its destination under a temporary name, checked with
``PRAGMA integrity_check``, switched to a single self-contained file
(journal mode DELETE), made readable by its owner only, and only then given
its final name: a half-written backup never looks like a good one.

A backup holds every patient's record, so it says who is asking (``--user``,
cli.auth) and writes an audit row naming them before the copy is made.
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from cli.auth import NotAuthorised, add_user_options, who_is_asking
from cli.common import add_db_option, db_path_of, open_existing, shown
from console.audit import VerifyResult, audit, verify, write_transaction
from db.database import BUSY_TIMEOUT_MS
from devices.private_file import create_private

log = logging.getLogger(__name__)


class BackupError(Exception):
    """The backup could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    audit: VerifyResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backup", help="copy the database to DEST (a file or a folder), safely while recording",
    )
    parser.add_argument("dest", type=Path, metavar="DEST",
                        help="the backup file, or a folder to put a dated backup file in")
    add_db_option(parser)
    add_user_options(parser)
    parser.set_defaults(func=run)


def _destination(dest: Path, source: Path) -> Path:
    if dest.is_dir():
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return dest / f"{source.stem}-{stamp}.db"
    return dest


def backup_database(source: Path, dest: Path) -> BackupResult:
    """Copy ``source`` to ``dest`` (a file that must not exist yet, or a folder)."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"There is no database at {source}; give its path with --db.")
    target = _destination(Path(dest), source)
    if target.exists():
        raise BackupError(f"{target} already exists; choose another name, a backup never overwrites.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # A new file readable by its owner only: it holds patient records.
    create_private(partial, exclusive=True)
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True,
                              timeout=BUSY_TIMEOUT_MS / 1000)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # one step: one consistent snapshot
            dst.execute("PRAGMA journal_mode = DELETE")
            problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"The copy failed its integrity check ({'; '.join(problems[:3])}); "
                                  "the database itself may be damaged.")
            audit_result = verify(Database(dst))
        finally:
            dst.close()
            src.close()
        os.replace(partial, target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"The backup of {source} failed: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    log.info("backed up %s to %s", source, target)
    return BackupResult(target, target.stat().st_size, audit_result)


def _authorised(args: argparse.Namespace, source: Path) -> bool:
    """Who is asking, and their audit row in the database being copied (so the copy holds it too)."""
    db = open_existing(args, "backup", mark_sessions=False)  # the copy is of the file as it is
    if db is None:
        return False
    try:
        user = who_is_asking(db, args, "backup", "export_sessions")
        with write_transaction(db):
            audit(db, user, "backup_database", "database", None, None,
                  {"from": str(source.absolute()), "to": str(Path(args.dest).absolute()),
                   "via": "command line"})
    except NotAuthorised as exc:
        print(f"backup: {shown(exc)}", file=sys.stderr)
        return False
    except sqlite3.Error as exc:
        print(f"backup: not made (its audit row cannot be written): {exc}", file=sys.stderr)
        return False
    finally:
        db.close()
    return True


def run(args: argparse.Namespace) -> int:
    source = db_path_of(args)
    if not _authorised(args, source):
        return 1
    try:
        result = backup_database(source, args.dest)
    except (BackupError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"backed up {source} to {result.path} ({result.size_bytes} bytes, integrity ok)")
    if result.audit.ok:
        print(f"audit trail ok {result.audit.rows} rows, head {result.audit.head_hash or '-'}")
    else:
        print(f"WARNING: the audit trail of the copy does not verify: {result.audit.problem}")
    return 0
