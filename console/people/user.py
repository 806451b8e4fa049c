"""A person as the program knows them, read from the accounts table.

The other people modules (login, admin, permissions) build on this one;
it imports none of them, so there is no cycle between "who" and "may they".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from console.errors import ClinicError, PermissionDenied

log = logging.getLogger(__name__)


ROLES = ("technician", "supervisor", "physician", "admin")
"""Every role, in the order screens list them. A supervisor is the lead technician; a physician
is the credentialed clinician who makes the clinical decisions (issue 14, item 7): what each
may do is the one table in :mod:`console.people.permissions`."""

_USER_COLUMNS = "id, uuid, username, full_name, role, active, must_change_password"

@dataclass(frozen=True)
class User:
    """A person as the program knows them; ``username`` is unique and never changes."""

    id: int
    uuid: str
    username: str
    full_name: str
    role: str
    active: bool
    must_change_password: bool = False
    source: Any = field(default=None, compare=False, repr=False, hash=False)
    """The database this account was read from (not part of the person's identity): the
    permission check re-reads the account there at the moment of each action, so a role
    change or a disabled account counts at once, also for someone already logged in."""

class AuthError(ClinicError):
    """A log-in or password confirmation failed; the message can be shown as it is.

    A :class:`~console.clinic.records.ClinicError`, so code that shows a person's mistakes shows this too.
    """

class AccountError(ClinicError):
    """A request about an account cannot be done (bad name, weak password, last admin...)."""

def _user(row: Any, db: sqlite_utils.Database | None = None) -> User:
    return User(id=row[0], uuid=row[1], username=row[2], full_name=row[3], role=row[4],
                active=bool(row[5]), must_change_password=bool(row[6]), source=db)

def get_user(db: sqlite_utils.Database, username: str) -> User | None:
    """The account named ``username`` (any case), or None."""
    row = db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?",
                     [username.strip()]).fetchone()
    return _user(row, db) if row else None

def refresh(db: sqlite_utils.Database, user: User) -> User:
    """The account's current state: a disabled account or a changed role counts from now on,
    not from the moment its holder logged in."""
    row = db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", [user.id]).fetchone()
    if row is None:
        raise PermissionDenied(f"The account {user.username!r} does not exist in this database.")
    return _user(row, db)

def needs_first_admin(db: sqlite_utils.Database) -> bool:
    """True until the first admin account exists (the first start asks for it)."""
    return db.execute("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1").fetchone() is None

def _active_admins(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM users WHERE role = 'admin' AND active = 1").fetchone()[0]

def is_demo_database(db: sqlite_utils.Database) -> bool:
    """Whether the setting ``demo_database`` marks this file as a demo database.

    Read from the settings table itself: it is a mark the demo command puts on
    the file, not a choice the clinic makes in its settings screen.
    """
    row = db.execute("SELECT value FROM settings WHERE key = 'demo_database'").fetchone()
    try:
        return row is not None and json.loads(row[0]) is True
    except ValueError:
        return False

def full_names(db: sqlite_utils.Database) -> dict[str, str]:
    """User name -> full name of every account, disabled ones too (records name people who left).

    Records store the user name (it never changes); screens and printouts show the person's name.
    """
    return {str(u): str(n) for u, n in db.execute("SELECT username, full_name FROM users") if n}
