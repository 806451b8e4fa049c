"""Opening the SQLite file: checks, pragmas and migrations, in one place.

Every connection the program makes goes through :func:`connect` so that all of
them agree on the journal mode, durability and foreign keys. The first
connection of a process goes through :func:`open_database`, which also
refuses a damaged file (``PRAGMA quick_check``) and brings the schema up to
date, one named migration at a time, each in its own transaction, so a
migration that fails leaves the file exactly at the previous version.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from db import schema
from devices.private_file import create_private

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
"""How long a connection waits for another one's write to finish before giving up."""


class DatabaseUnusable(Exception):
    """The database file cannot be used; the message says which file, what is wrong and what to do."""


def utc_now() -> str:
    """Now, as the one time format of the database: ISO-8601 UTC, milliseconds, explicit offset.

    One format everywhere keeps text comparison of times equal to time order.
    """
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def to_utc_iso(value: datetime | str) -> str:
    """A time given by a person or a caller, in the database's format.

    A naive time (no offset) is taken as the computer's local time, which is
    what a person at the chair means; strings are read as ISO-8601.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a date and time in ISO-8601 form (2026-03-01T14:30)") from exc
    if value.tzinfo is None:
        value = value.astimezone()  # local time
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def new_uuid() -> str:
    """A globally unique id, so the records of many chairs can later merge without collisions."""
    return str(uuid.uuid4())


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an ``INSERT`` just made through ``cursor``.

    sqlite3 types ``lastrowid`` as optional (None on a cursor that has run nothing);
    a record created without an id could never be read back, so that fails here.
    """
    row_id = cursor.lastrowid
    if row_id is None:
        raise sqlite3.InterfaceError("the statement inserted no row, so it has no id")
    return row_id


def _create_file(path: Path) -> None:
    """Create an empty database file readable by its owner only (it holds patient records)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        create_private(path, exclusive=True)
    except FileExistsError:
        return  # another process created it first: fine
    except OSError as exc:
        raise DatabaseUnusable(
            f"The database {path} cannot be created ({exc.strerror}); "
            "choose a folder you can write to with --db."
        ) from exc
    log.info("created a new database file %s", path)


def connect(path: Path | str, *, create: bool = False) -> sqlite_utils.Database:
    """A connection with the program's pragmas: WAL, synchronous=FULL, foreign keys, busy timeout.

    No integrity check and no migrations: this is for a second connection to
    a file :func:`open_database` has already checked (the writer thread's).
    """
    path = Path(path)
    if path.is_dir():
        raise DatabaseUnusable(f"The database path {path} is a folder; give the path of a file with --db.")
    if not path.exists():
        if not create:
            raise DatabaseUnusable(
                f"The database {path} does not exist; check the path given with --db."
            )
        _create_file(path)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnusable(
            f"The database {path} cannot be opened ({exc}); it may not be a TMS Session Console "
            "database or it is damaged: restore it from a backup or choose another file with --db."
        ) from exc
    if str(mode).lower() != "wal":
        db.close()
        raise DatabaseUnusable(
            f"The database {path} cannot use write-ahead logging (journal mode stays {mode!r}); "
            "keep the database on a local disk, not a network share."
        )
    return db


def _quick_check(db: sqlite_utils.Database, path: Path) -> None:
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    if problems != ["ok"]:
        shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        raise DatabaseUnusable(
            f"The database {path} is damaged (integrity check: {shown}); the program will not "
            "write to it: restore it from a backup, or keep it aside and start with another file "
            "(--db)."
        )


def _refuse_foreign_or_newer(db: sqlite_utils.Database, path: Path, sets: Sequence[Migrations]) -> None:
    """Another program's file, or a file migrated by a newer version of this one, is not written."""
    tables = db.table_names()
    if "_sqlite_migrations" not in tables:
        if tables:
            raise DatabaseUnusable(
                f"The file {path} is a database of another program (it has tables but none of "
                "TMS Session Console's history); choose another file with --db."
            )
        return
    # Migrations keeps its list private; the names it holds are what this version knows.
    known = {(s.name, m.name) for s in sets for m in s._migrations}
    applied = [
        (row[0], row[1])
        for row in db.execute("SELECT migration_set, name FROM _sqlite_migrations ORDER BY id")
    ]
    unknown = [f"{s}/{n}" for s, n in applied if (s, n) not in known]
    if unknown:
        raise DatabaseUnusable(
            f"The database {path} was written by a newer version of TMS Session Console "
            f"(it has schema changes this version does not know: {', '.join(unknown[:3])}); "
            "open it with that newer version."
        )


def _apply_one(db: sqlite_utils.Database, mset: Migrations, name: str, next_name: str | None,
               transactional: bool) -> None:
    """Apply exactly the pending migration ``name``, checking foreign keys before it commits."""
    if not transactional:
        mset.apply(db, stop_before=next_name)
        return
    with db.atomic():  # the migration's own atomic() nests inside as a savepoint
        mset.apply(db, stop_before=next_name)
        broken = db.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise sqlite3.IntegrityError(
                f"{len(broken)} row(s) would break a foreign key, first in table {broken[0][0]!r}"
            )


def migrate(db: sqlite_utils.Database, path: Path | str, sets: Sequence[Migrations]) -> list[str]:
    """Apply every pending migration of ``sets`` in order; returns the names applied.

    Foreign keys are off while migrating (SQLite's advice for rebuilding
    tables) and checked before each migration commits instead.
    """
    path = Path(path)
    _refuse_foreign_or_newer(db, path, sets)
    applied: list[str] = []
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        for mset in sets:
            pending = mset.pending(db)
            for i, migration in enumerate(pending):
                next_name = pending[i + 1].name if i + 1 < len(pending) else None
                try:
                    _apply_one(db, mset, migration.name, next_name, migration.transactional)
                except Exception as exc:
                    raise DatabaseUnusable(
                        f"The database {path} could not be brought up to date: schema change "
                        f"{mset.name}/{migration.name} failed ({exc}); the file was left unchanged "
                        f"at the version before it. Keep the file and report this error."
                    ) from exc
                applied.append(f"{mset.name}/{migration.name}")
                log.info("applied migration %s/%s to %s", mset.name, migration.name, path)
    finally:
        db.execute("PRAGMA foreign_keys = ON")
    return applied


def open_database(
    path: Path | str, *, create: bool = True, migration_sets: Sequence[Migrations] | None = None
) -> sqlite_utils.Database:
    """The program's database, checked and up to date, or :class:`DatabaseUnusable`.

    A new file is created (with its folder) readable by its owner only.
    ``migration_sets`` defaults to :func:`db.schema.migration_sets`; tests pass
    their own to exercise a failing migration.
    """
    path = Path(path)
    if migration_sets is None:
        migration_sets = schema.migration_sets()
    db = connect(path, create=create)
    try:
        _quick_check(db, path)
        migrate(db, path, migration_sets)
    except BaseException:
        db.close()
        raise
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One transaction that takes the write lock at once (BEGIN IMMEDIATE).

    Inside a caller's transaction it nests as a savepoint. Taking the lock
    before reading means two programs writing the same file wait for each
    other (busy_timeout) instead of one failing with "database is locked" when
    its read lock cannot be upgraded, and never both read the same audit head.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")
