"""Schema for people and accountability: users, signatures, the audit log.

Its own migration set (``tms_console_accounts``), applied after the core set,
so the history of who may do what stays apart from the clinical record.

Accountability is enforced in the file itself, not only in the program:
accounts are disabled, never deleted (the records keep naming them);
signatures and audit rows can be neither changed nor deleted; a session still
being recorded cannot be signed.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from db.migration_sql import run_statements as _run

migrations = Migrations("tms_console_accounts")

# Records name people by user name: an account is disabled, never deleted or renamed. Made by the
# first migration and again when 0005 rebuilds the table.
_USER_TRIGGERS = (
    """CREATE TRIGGER users_no_delete BEFORE DELETE ON users
       BEGIN SELECT RAISE(ABORT, 'accounts are never deleted: disable the account instead'); END""",
    """CREATE TRIGGER users_name_fixed BEFORE UPDATE OF username, uuid ON users
       WHEN NEW.username IS NOT OLD.username OR NEW.uuid IS NOT OLD.uuid
       BEGIN SELECT RAISE(ABORT, 'a user name never changes: records refer to it'); END""",
)


@migrations(name="0001_users")
def m0001_users(db: Database) -> None:
    _run(db, [
        """CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            full_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('technician', 'supervisor', 'admin')),
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            created_at TEXT NOT NULL,
            created_by TEXT,
            password_changed_at TEXT NOT NULL,
            last_login_at TEXT
        )""",
        *_USER_TRIGGERS,
    ])


@migrations(name="0002_signatures")
def m0002_signatures(db: Database) -> None:
    _run(db, [
        # A sign-off of a session ("reviewed", "approved"), or the signature of the
        # author of an addendum written after the session was signed ("authored").
        # record_hash: SHA-256 of the session's record when signed, so a reviewer
        # can show the record has not changed since.
        """CREATE TABLE signatures (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            addendum_id INTEGER REFERENCES addenda(id),
            user_id INTEGER NOT NULL REFERENCES users(id),
            signer_username TEXT NOT NULL,
            signer_name TEXT NOT NULL,
            signer_role TEXT NOT NULL,
            meaning TEXT NOT NULL CHECK (meaning IN ('reviewed', 'approved', 'authored')),
            comment TEXT,
            signed_at TEXT NOT NULL,
            record_hash TEXT NOT NULL,
            CHECK ((addendum_id IS NULL) = (meaning != 'authored'))
        )""",
        "CREATE INDEX idx_signatures_session ON signatures(session_id, id)",
        """CREATE TRIGGER signatures_not_while_recording BEFORE INSERT ON signatures
           WHEN (SELECT status FROM sessions WHERE id = NEW.session_id) = 'recording'
           BEGIN SELECT RAISE(ABORT, 'a session still recording cannot be signed'); END""",
        """CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
           BEGIN SELECT RAISE(ABORT, 'signatures are permanent'); END""",
        """CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
           BEGIN SELECT RAISE(ABORT, 'signatures are permanent'); END""",
    ])


@migrations(name="0003_audit_log")
def m0003_audit_log(db: Database) -> None:
    _run(db, [
        # One row per create / change / sign-off by a person. hash = SHA-256 over
        # the row's content and prev_hash (the previous row's hash): a changed,
        # removed or inserted row breaks the chain (console.audit.verify).
        # AUTOINCREMENT keeps the highest id ever used in sqlite_sequence, so rows
        # cut off the end of the log are noticed too.
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT,
            old_values TEXT,
            new_values TEXT,
            prev_hash TEXT,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX idx_audit_entity ON audit_log(entity, entity_id)",
        """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    ])


@migrations(name="0004_signed_sessions_locked")
def m0004_signed_sessions_locked(db: Database) -> None:
    _run(db, [
        # A signed session is locked: its event log takes no new rows (side effects,
        # notes, observations); later remarks are addenda, signed by their author.
        """CREATE TRIGGER session_events_locked_when_signed BEFORE INSERT ON session_events
           WHEN EXISTS (SELECT 1 FROM signatures WHERE session_id = NEW.session_id AND addendum_id IS NULL)
           BEGIN SELECT RAISE(ABORT, 'session is signed and locked: add an addendum instead'); END""",
    ])


@migrations(name="0005_physician_role")
def m0005_physician_role(db: Database) -> None:
    """The physician role (issue 14, item 7): the role's CHECK is part of the table, so the
    table is rebuilt the way SQLite advises (new table, copy, drop, rename; foreign keys are
    off while migrating) and its triggers are made again."""
    _run(db, [
        """CREATE TABLE users_new (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            full_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('technician', 'supervisor', 'physician', 'admin')),
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            created_at TEXT NOT NULL,
            created_by TEXT,
            password_changed_at TEXT NOT NULL,
            last_login_at TEXT
        )""",
        """INSERT INTO users_new (id, uuid, username, full_name, role, password_hash, active,
               must_change_password, failed_attempts, locked_until, created_at, created_by,
               password_changed_at, last_login_at)
           SELECT id, uuid, username, full_name, role, password_hash, active, must_change_password,
               failed_attempts, locked_until, created_at, created_by, password_changed_at, last_login_at
           FROM users""",
        "DROP TABLE users",
        "ALTER TABLE users_new RENAME TO users",
        *_USER_TRIGGERS,
    ])
