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

DISABLED = "Account disabled."

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
        _dummy_hash = passwords.HASHER.hash("not a password of anyone")
    with contextlib.suppress(VerificationError):
        passwords.HASHER.verify(_dummy_hash, password)

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
        passwords.HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        _count_failure(db, user, failed, now, purpose)
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
    password_hash = passwords.HASHER.hash(new_password)
    with write_transaction(db):
        db.execute(
            "UPDATE users SET password_hash = ?, must_change_password = 0, password_changed_at = ? "
            "WHERE id = ?", [password_hash, to_utc_iso(now or datetime.now(UTC)), fresh.id],
        )
        audit(db, fresh, "change_password", "user", fresh.username,
              {"must_change_password": fresh.must_change_password}, {"must_change_password": False})
    return refresh(db, fresh)
