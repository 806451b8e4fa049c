"""Local user accounts: unique user names, roles, Argon2id passwords, lockout.

There are no built-in passwords: the first start asks for the admin account
(:func:`needs_first_admin`), and only a database marked as a demo database
gets the demo accounts (:func:`create_demo_accounts`). Passwords are hashed
with Argon2id and rehashed at the next login when :data:`HASHER`'s parameters
are raised. Five wrong passwords in a row lock an account for five minutes,
which stops guessing at an unattended chair without needing an admin. Every
change to an account is audited; accounts are disabled, never deleted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from console.audit import audit, write_transaction
from console.clinic import ClinicError
from console.permissions import PermissionDenied, require
from db.database import new_uuid, to_utc_iso

log = logging.getLogger(__name__)

ROLES = ("technician", "supervisor", "admin")
LOCKOUT_ATTEMPTS = 5
LOCKOUT_DURATION = timedelta(minutes=5)
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

HASHER = PasswordHasher()
"""Argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, t=3, p=4).
Raise the parameters here; stored hashes are upgraded at each person's next login."""

WRONG_PASSWORD = "Wrong user name or password."
DISABLED = "Account disabled."

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")
_USER_COLUMNS = "id, uuid, username, full_name, role, active, must_change_password"
_dummy_hash: str | None = None


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


class AuthError(ClinicError):
    """A log-in or password confirmation failed; the message can be shown as it is.

    A :class:`~console.clinic.ClinicError`, so code that shows a person's mistakes shows this too.
    """


class AccountError(ClinicError):
    """A request about an account cannot be done (bad name, weak password, last admin...)."""


# --- reading ---------------------------------------------------------------------------------

def _user(row: Any) -> User:
    return User(id=row[0], uuid=row[1], username=row[2], full_name=row[3], role=row[4],
                active=bool(row[5]), must_change_password=bool(row[6]))


def get_user(db: sqlite_utils.Database, username: str) -> User | None:
    """The account named ``username`` (any case), or None."""
    row = db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?",
                     [username.strip()]).fetchone()
    return _user(row) if row else None


def refresh(db: sqlite_utils.Database, user: User) -> User:
    """The account's current state: a disabled account or a changed role counts from now on,
    not from the moment its holder logged in."""
    row = db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", [user.id]).fetchone()
    if row is None:
        raise PermissionDenied(f"The account {user.username!r} does not exist in this database.")
    return _user(row)


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


# --- checking what people type -----------------------------------------------------------------

def normalize_username(username: str) -> str:
    """The stored form of a user name (lower case), or AccountError saying what is wrong."""
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise AccountError(
            "A user name has 2 to 32 characters: letters a-z, digits, dots, dashes or "
            "underscores, starting with a letter or digit (no spaces)."
        )
    return name


def check_password_rules(password: str, username: str) -> None:
    """Length is what makes a password strong (NIST SP 800-63B): no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"A password has at most {MAX_PASSWORD_LENGTH} characters.")
    if password.strip().lower() == username.strip().lower():
        raise AccountError("The password must not be the user name.")


def _check_full_name(full_name: str) -> str:
    name = " ".join(full_name.split())
    if not name:
        raise AccountError("Enter the person's full name.")
    if len(name) > 100:
        raise AccountError("A full name has at most 100 characters.")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; a role is one of {', '.join(ROLES)}.")
    return role


# --- creating and changing accounts ----------------------------------------------------------

def _admin_actor(db: sqlite_utils.Database, actor: User) -> User:
    """The actor's current state, who must be allowed to manage accounts (checked before any write)."""
    require(actor, "manage_users")
    fresh = refresh(db, actor)
    require(fresh, "manage_users")
    return fresh


def _target(db: sqlite_utils.Database, username: str) -> User:
    user = get_user(db, username)
    if user is None:
        raise AccountError(f"There is no account named {username.strip()!r}.")
    return user


def _public(user: User) -> dict[str, Any]:
    return {"username": user.username, "full_name": user.full_name, "role": user.role,
            "active": user.active}


def create_user(db: sqlite_utils.Database, actor: User | None, username: str, full_name: str,
                role: str, password: str, *, must_change_password: bool = False) -> User:
    """A new account. ``actor`` is the admin creating it; None only for the first admin,
    who creates their own account at the first start."""
    if actor is None:
        if role != "admin" or not needs_first_admin(db):
            raise PermissionDenied("Only an admin can create accounts.")
    else:
        actor = _admin_actor(db, actor)
    name = normalize_username(username)
    full = _check_full_name(full_name)
    _check_role(role)
    check_password_rules(password, name)
    password_hash = HASHER.hash(password)
    now = to_utc_iso(datetime.now(UTC))
    with write_transaction(db):
        if get_user(db, name) is not None:
            raise AccountError(f"The user name {name!r} is taken; choose another.")
        if actor is None and not needs_first_admin(db):
            raise PermissionDenied("Only an admin can create accounts.")
        creator = actor.username if actor else name
        cursor = db.execute(
            "INSERT INTO users (uuid, username, full_name, role, password_hash, active, "
            "must_change_password, created_at, created_by, password_changed_at) "
            "VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
            [new_uuid(), name, full, role, password_hash, int(must_change_password), now, creator, now],
        )
        user = refresh(db, User(cursor.lastrowid, "", name, full, role, True))
        audit(db, creator, "create_user", "user", name, None,
              {**_public(user), "must_change_password": must_change_password})
    log.info("account %s (%s) created by %s", name, role, creator)
    return user


def reset_password(db: sqlite_utils.Database, actor: User, username: str, new_password: str) -> None:
    """An admin sets a temporary password; its holder must choose a new one at the next login."""
    actor = _admin_actor(db, actor)
    target = _target(db, username)
    check_password_rules(new_password, target.username)
    must_change = target.id != actor.id
    password_hash = HASHER.hash(new_password)
    with write_transaction(db):
        db.execute(
            "UPDATE users SET password_hash = ?, must_change_password = ?, failed_attempts = 0, "
            "locked_until = NULL, password_changed_at = ? WHERE id = ?",
            [password_hash, int(must_change), to_utc_iso(datetime.now(UTC)), target.id],
        )
        audit(db, actor, "reset_password", "user", target.username,
              {"must_change_password": target.must_change_password},
              {"must_change_password": must_change})


def reset_password_from_command_line(db: sqlite_utils.Database, username: str, new_password: str,
                                     operator: str) -> None:
    """The way back in when the only admin forgot their password: ``python main.py users
    reset-password``, run by someone who can write the database file anyway (``operator``
    is their operating-system user name, kept in the audit row). Never call this from a screen.
    """
    target = _target(db, username)
    check_password_rules(new_password, target.username)
    password_hash = HASHER.hash(new_password)
    with write_transaction(db):
        db.execute(
            "UPDATE users SET password_hash = ?, must_change_password = 1, failed_attempts = 0, "
            "locked_until = NULL, password_changed_at = ? WHERE id = ?",
            [password_hash, to_utc_iso(datetime.now(UTC)), target.id],
        )
        audit(db, f"command line ({operator})", "reset_password", "user", target.username,
              {"must_change_password": target.must_change_password}, {"must_change_password": True})
    log.warning("password of %s reset from the command line by %s", target.username, operator)


def set_active(db: sqlite_utils.Database, actor: User, username: str, active: bool) -> None:
    """Disable or enable an account; the last active admin cannot be disabled."""
    actor = _admin_actor(db, actor)
    target = _target(db, username)
    if target.active == active:
        return
    if not active:
        if target.id == actor.id:
            raise AccountError("You cannot disable your own account; another admin can.")
        if target.role == "admin" and _active_admins(db) <= 1:
            raise AccountError(f"{target.username!r} is the last active admin account; make another "
                               "admin first.")
    with write_transaction(db):
        db.execute("UPDATE users SET active = ? WHERE id = ?", [int(active), target.id])
        audit(db, actor, "enable_user" if active else "disable_user", "user", target.username,
              {"active": target.active}, {"active": active})


def set_role(db: sqlite_utils.Database, actor: User, username: str, role: str) -> None:
    """Change what an account may do; the last active admin keeps the admin role."""
    actor = _admin_actor(db, actor)
    _check_role(role)
    target = _target(db, username)
    if target.role == role:
        return
    if target.role == "admin" and target.active and _active_admins(db) <= 1:
        raise AccountError(f"{target.username!r} is the last active admin account; make another "
                           "admin first.")
    with write_transaction(db):
        db.execute("UPDATE users SET role = ? WHERE id = ?", [role, target.id])
        audit(db, actor, "change_role", "user", target.username, {"role": target.role}, {"role": role})


def list_users(db: sqlite_utils.Database, actor: User) -> list[User]:
    """Every account, disabled ones too, by user name (for the admin's account screen)."""
    _admin_actor(db, actor)
    rows = db.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username").fetchall()
    return [_user(row) for row in rows]


# --- logging in ------------------------------------------------------------------------------

def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def _locked_message(until: datetime) -> str:
    local = until.astimezone()
    if local.second or local.microsecond:  # say the minute from which it works again
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return (f"Account locked until {local:%H:%M} after {LOCKOUT_ATTEMPTS} failed attempts. "
            "Try again then, or ask an admin to reset the password.")


def _waste_time_like_a_check(password: str) -> None:
    """An unknown user name costs as long as a wrong password, so timing tells nothing."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = HASHER.hash("not a password of anyone")
    with contextlib.suppress(VerificationError):
        HASHER.verify(_dummy_hash, password)


def _check_password(db: sqlite_utils.Database, username: str, password: str, now: datetime | None,
                    purpose: str) -> User:
    """The account if ``password`` is right; counts failures and locks after five."""
    now = now or datetime.now(UTC)
    row = db.execute(
        f"SELECT {_USER_COLUMNS}, password_hash, failed_attempts, locked_until FROM users "
        "WHERE username = ?", [username.strip()],
    ).fetchone()
    if row is None:
        _waste_time_like_a_check(password)
        # The typed name is not recorded: people type their password into it by mistake.
        audit(db, "unknown", "login_failed", "user", None, None, {"reason": "unknown user name",
                                                                   "purpose": purpose})
        raise AuthError(WRONG_PASSWORD)
    user = _user(row)
    password_hash, failed, locked_until = row[7], row[8], row[9]
    if locked_until and now < _parse(locked_until):
        audit(db, user.username, "login_refused", "user", user.username, None,
              {"reason": "account locked", "purpose": purpose})
        raise AuthError(_locked_message(_parse(locked_until)))
    try:
        HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        _count_failure(db, user, failed, now, purpose)
    if not user.active:
        audit(db, user.username, "login_refused", "user", user.username, None,
              {"reason": "account disabled", "purpose": purpose})
        raise AuthError(DISABLED)
    updates: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
    if purpose == "login":
        updates["last_login_at"] = to_utc_iso(now)
    if HASHER.check_needs_rehash(password_hash):
        updates["password_hash"] = HASHER.hash(password)
        log.info("password hash of %s upgraded to the current Argon2id parameters", user.username)
    with write_transaction(db):
        db.table("users").update(user.id, updates)
        if purpose == "login":
            audit(db, user.username, "login", "user", user.username, None,
                  {"rehashed": "password_hash" in updates})
    return user


def _count_failure(db: sqlite_utils.Database, user: User, failed: int, now: datetime,
                   purpose: str) -> None:
    attempts = failed + 1
    with write_transaction(db):
        if attempts >= LOCKOUT_ATTEMPTS:
            until = now + LOCKOUT_DURATION
            db.table("users").update(user.id, {"failed_attempts": 0, "locked_until": to_utc_iso(until)})
            audit(db, user.username, "account_locked", "user", user.username, None,
                  {"failed_attempts": attempts, "locked_until": to_utc_iso(until), "purpose": purpose})
        else:
            db.table("users").update(user.id, {"failed_attempts": attempts})
            audit(db, user.username, "login_failed", "user", user.username, None,
                  {"reason": "wrong password", "failed_attempts": attempts, "purpose": purpose})
    if attempts >= LOCKOUT_ATTEMPTS:
        log.warning("account %s locked for %s after %d failed attempts", user.username,
                    LOCKOUT_DURATION, attempts)
        raise AuthError(_locked_message(now + LOCKOUT_DURATION))
    raise AuthError(WRONG_PASSWORD)


def authenticate(db: sqlite_utils.Database, username: str, password: str, *,
                 now: datetime | None = None) -> User:
    """Log in: the account, or :class:`AuthError` with a message to show as it is.

    ``now`` (UTC) is for tests of the lockout; the program passes nothing.
    """
    return _check_password(db, username, password, now, "login")


def confirm_password(db: sqlite_utils.Database, user: User, password: str, *, purpose: str,
                     now: datetime | None = None) -> User:
    """Re-authenticate a logged-in person before an act that carries their name (a signature).

    Wrong passwords count towards the lockout like at the log-in screen.
    Returns the account's current state.
    """
    return _check_password(db, user.username, password, now, purpose)


def change_password(db: sqlite_utils.Database, user: User, old_password: str, new_password: str,
                    *, now: datetime | None = None) -> User:
    """A person changes their own password (required after an admin reset it)."""
    fresh = confirm_password(db, user, old_password, purpose="change password", now=now)
    check_password_rules(new_password, fresh.username)
    if new_password == old_password:
        raise AccountError("Choose a password different from the current one.")
    password_hash = HASHER.hash(new_password)
    with write_transaction(db):
        db.execute(
            "UPDATE users SET password_hash = ?, must_change_password = 0, password_changed_at = ? "
            "WHERE id = ?", [password_hash, to_utc_iso(now or datetime.now(UTC)), fresh.id],
        )
        audit(db, fresh, "change_password", "user", fresh.username,
              {"must_change_password": fresh.must_change_password}, {"must_change_password": False})
    return refresh(db, fresh)


# --- demo ------------------------------------------------------------------------------------

DEMO_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    # user name, full name, role, password
    ("technician", "Tess Tech (demo)", "technician", "demo-technician"),
    ("supervisor", "Dr. Sam Super (demo)", "supervisor", "demo-supervisor"),
    ("admin", "Alex Admin (demo)", "admin", "demo-admin"),
)


def mark_demo_database(db: sqlite_utils.Database) -> None:
    """Mark a new, empty database as a demo database (the login screen then shows the demo
    accounts). Refused once it has any account that is not a demo account, so a clinic's
    real database can never be turned into one."""
    if is_demo_database(db):
        return
    demo_names = [name for name, _, _, _ in DEMO_ACCOUNTS]
    others = db.execute(
        f"SELECT count(*) FROM users WHERE username NOT IN ({', '.join('?' * len(demo_names))})",
        demo_names).fetchone()[0]
    if others:
        raise AccountError("This database already has user accounts; only a new database can be "
                           "made a demo database.")
    with write_transaction(db):
        db.execute(
            "INSERT INTO settings (key, value, changed_at, changed_by) VALUES ('demo_database', 'true', ?, "
            "'demo set-up') ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
            "changed_at = excluded.changed_at, changed_by = excluded.changed_by",
            [to_utc_iso(datetime.now(UTC))],
        )
        audit(db, "demo set-up", "mark_demo_database", "setting", "demo_database", None, {"value": True})


def create_demo_accounts(db: sqlite_utils.Database) -> list[tuple[str, str, str]]:
    """The demo accounts as (user name, password, role), created if missing.

    Only in a database whose ``demo_database`` setting is true: known passwords
    must never reach a clinic's real database.
    """
    if not is_demo_database(db):
        raise AccountError("Demo accounts are only created in a database marked as a demo database "
                           "(mark_demo_database).")
    accounts = []
    with write_transaction(db):
        for username, full_name, role, password in DEMO_ACCOUNTS:
            if get_user(db, username) is None:
                now = to_utc_iso(datetime.now(UTC))
                db.execute(
                    "INSERT INTO users (uuid, username, full_name, role, password_hash, created_at, "
                    "created_by, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, 'demo set-up', ?)",
                    [new_uuid(), username, full_name, role, HASHER.hash(password), now, now],
                )
                audit(db, "demo set-up", "create_user", "user", username, None,
                      {"username": username, "full_name": full_name, "role": role, "active": True})
            accounts.append((username, password, role))
    return accounts
