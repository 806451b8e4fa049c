"""Managing accounts: create, disable, change role, reset password, demo accounts.

There are no built-in passwords: the first start asks for the admin account
(:func:`console.people.user.needs_first_admin`), and only a database marked as a
demo database gets the demo accounts (:func:`create_demo_accounts`). Every
change to an account is audited; accounts are disabled, never deleted.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from console.audit import audit, write_transaction
from console.people import passwords
from console.people.passwords import check_password_rules
from console.people.permissions import PermissionDenied, require
from console.people.user import (
    _USER_COLUMNS,
    ROLES,
    AccountError,
    User,
    _active_admins,
    _user,
    get_user,
    is_demo_database,
    needs_first_admin,
    refresh,
)
from db.database import inserted_id, new_uuid, to_utc_iso

log = logging.getLogger(__name__)


_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")

def normalize_username(username: str) -> str:
    """The stored form of a user name (lower case), or AccountError saying what is wrong."""
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise AccountError(
            "A user name has 2 to 32 characters: letters a-z, digits, dots, dashes or "
            "underscores, starting with a letter or digit (no spaces)."
        )
    return name

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
    password_hash = passwords.HASHER.hash(password)
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
        user = refresh(db, User(inserted_id(cursor), "", name, full, role, True))
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
    password_hash = passwords.HASHER.hash(new_password)
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
    password_hash = passwords.HASHER.hash(new_password)
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
    return [_user(row, db) for row in rows]


DEMO_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    # user name, full name, role, password
    ("technician", "Tess Tech (demo)", "technician", "demo-technician"),
    ("supervisor", "Sam Super (demo)", "supervisor", "demo-supervisor"),
    ("physician", "Dr. Pat Physician (demo)", "physician", "demo-physician"),
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
                    [new_uuid(), username, full_name, role, passwords.HASHER.hash(password), now, now],
                )
                audit(db, "demo set-up", "create_user", "user", username, None,
                      {"username": username, "full_name": full_name, "role": role, "active": True})
            accounts.append((username, password, role))
    return accounts
