"""Logging in and confirming a password: Argon2id check, lockout after repeated failures.

Five wrong passwords in a row lock an account for five minutes, which stops
guessing at an unattended chair without needing an admin. An unknown user
name costs the same time as a wrong password.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils
from argon2.exceptions import InvalidHashError, VerificationError

from console.audit import audit, write_transaction
from console.people import passwords
from console.people.passwords import check_password_rules
from console.people.user import (
    _USER_COLUMNS,
    AccountError,
    AuthError,
    User,
    _user,
    refresh,
)
from db.database import to_utc_iso

log = logging.getLogger(__name__)

_dummy_hash: str | None = None


LOCKOUT_ATTEMPTS = 5

LOCKOUT_DURATION = timedelta(minutes=5)

WRONG_PASSWORD = "Wrong user name or password."
"""The one answer to an unknown user name, a wrong password and a locked account alike, so the
log-in screen does not tell a stranger which user names exist (issue 15)."""

DISABLED = "Account disabled."

def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)

def _waste_time_like_a_check(password: str) -> None:
    """An unknown user name costs as long as a wrong password, so timing tells nothing."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = passwords.HASHER.hash("not a password of anyone")
    with contextlib.suppress(VerificationError):
        passwords.HASHER.verify(_dummy_hash, password)

def _verifies(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches: one Argon2id verification, whatever the account's state."""
    try:
        return bool(passwords.HASHER.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False

def _locked(db: sqlite_utils.Database, user_id: int, now: datetime) -> bool:
    row = db.execute("SELECT locked_until FROM users WHERE id = ?", [user_id]).fetchone()
    return bool(row and row[0] and now < _parse(row[0]))

def _check_password(db: sqlite_utils.Database, username: str, password: str, now: datetime | None,
                    purpose: str) -> User:
    """The account if ``password`` is right; counts failures and locks after five.

    Unknown user, wrong password and locked account get the same message and the same one
    password verification, so neither the words nor the time tell which names exist.
    """
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
    user = _user(row, db)
    password_hash = row[7]
    right = _verifies(password_hash, password)  # paid by a locked account too
    if _locked(db, user.id, now):
        audit(db, user.username, "login_refused", "user", user.username, None,
              {"reason": "account locked", "purpose": purpose})
        raise AuthError(WRONG_PASSWORD)
    if not right:
        _count_failure(db, user, now, purpose)
    if not user.active:
        audit(db, user.username, "login_refused", "user", user.username, None,
              {"reason": "account disabled", "purpose": purpose})
        raise AuthError(DISABLED)
    updates: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
    if purpose == "login":
        updates["last_login_at"] = to_utc_iso(now)
    if passwords.HASHER.check_needs_rehash(password_hash):
        updates["password_hash"] = passwords.HASHER.hash(password)
        log.info("password hash of %s upgraded to the current Argon2id parameters", user.username)
    with write_transaction(db):
        if _locked(db, user.id, now):  # a parallel attempt locked it while this one was checked
            raise AuthError(WRONG_PASSWORD)
        db.table("users").update(user.id, updates)
        if purpose == "login":
            audit(db, user.username, "login", "user", user.username, None,
                  {"rehashed": "password_hash" in updates})
    return user

def _count_failure(db: sqlite_utils.Database, user: User, now: datetime, purpose: str) -> None:
    """Count one wrong password in the database itself (one UPDATE under the write lock), so
    parallel attempts from other threads or programs cannot each see the same old count."""
    with write_transaction(db):
        if _locked(db, user.id, now):  # locked meanwhile by a parallel attempt: nothing to count
            raise AuthError(WRONG_PASSWORD)
        attempts = int(db.execute(
            "UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = ? RETURNING failed_attempts",
            [user.id],
        ).fetchone()[0])
        if attempts >= LOCKOUT_ATTEMPTS:
            until = now + LOCKOUT_DURATION
            db.execute("UPDATE users SET failed_attempts = 0, locked_until = ? WHERE id = ?",
                       [to_utc_iso(until), user.id])
            audit(db, user.username, "account_locked", "user", user.username, None,
                  {"failed_attempts": attempts, "locked_until": to_utc_iso(until), "purpose": purpose})
        else:
            audit(db, user.username, "login_failed", "user", user.username, None,
                  {"reason": "wrong password", "failed_attempts": attempts, "purpose": purpose})
    if attempts >= LOCKOUT_ATTEMPTS:
        log.warning("account %s locked for %s after %d failed attempts", user.username,
                    LOCKOUT_DURATION, attempts)
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
    password_hash = passwords.HASHER.hash(new_password)
    with write_transaction(db):
        db.execute(
            "UPDATE users SET password_hash = ?, must_change_password = 0, password_changed_at = ? "
            "WHERE id = ?", [password_hash, to_utc_iso(now or datetime.now(UTC)), fresh.id],
        )
        audit(db, fresh, "change_password", "user", fresh.username,
              {"must_change_password": fresh.must_change_password}, {"must_change_password": False})
    return refresh(db, fresh)
