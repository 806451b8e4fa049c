"""How passwords are hashed (Argon2id) and what a password must be.

One hasher for log-in and account administration alike: raise its
parameters here and stored hashes are upgraded at each person's next login.
"""

from __future__ import annotations

import logging

from argon2 import PasswordHasher

from console.people.user import (
    AccountError,
)

log = logging.getLogger(__name__)


MIN_PASSWORD_LENGTH = 8

MAX_PASSWORD_LENGTH = 256

HASHER = PasswordHasher()
"""Argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, t=3, p=4).
Raise the parameters here; stored hashes are upgraded at each person's next login."""

def check_password_rules(password: str, username: str) -> None:
    """Length is what makes a password strong (NIST SP 800-63B): no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"A password has at most {MAX_PASSWORD_LENGTH} characters.")
    if password.strip().lower() == username.strip().lower():
        raise AccountError("The password must not be the user name.")
