"""What the admin's account list shows beside each account: the last log-in and whether it is locked.

Kept apart from :mod:`console.people.admin` (which changes accounts): this only reads, and only
for someone allowed to manage accounts (checked through :func:`console.people.admin.list_users`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from console.people.admin import list_users
from console.people.user import User


@dataclass(frozen=True)
class AccountStatus:
    """One account as the admin's list shows it (times in UTC; None when never)."""

    user: User
    last_login_at: datetime | None
    locked_until: datetime | None

    @property
    def locked(self) -> bool:
        """Locked after too many wrong passwords, as of now (the lock ends by itself)."""
        return self.locked_until is not None and self.locked_until > datetime.now(UTC)


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def account_statuses(db: sqlite_utils.Database, actor: User) -> list[AccountStatus]:
    """Every account, disabled ones too, by user name, with its last log-in and lock (admins only)."""
    users = list_users(db, actor)
    extra = {row[0]: (row[1], row[2]) for row in
             db.execute("SELECT id, last_login_at, locked_until FROM users").fetchall()}
    return [AccountStatus(user, _when(extra.get(user.id, (None, None))[0]),
                          _when(extra.get(user.id, (None, None))[1])) for user in users]
