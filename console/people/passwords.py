"""How passwords are hashed (Argon2id) and what a password must be.

One hasher for log-in and account administration alike: raise its
parameters here and stored hashes are upgraded at each person's next login.
"""

from __future__ import annotations

import logging

from argon2 import PasswordHasher
from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from console.people.user import (
    AccountError,
)
from console.resource_data import load as load_resource

log = logging.getLogger(__name__)


MIN_PASSWORD_LENGTH = 8
"""The floor of ``min_length`` in resources/password_policy.json (its schema allows no less)."""

MAX_PASSWORD_LENGTH = 256
"""The longest a password field accepts (the policy's ``max_length`` ships with this value)."""

HASHER = PasswordHasher()
"""Argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, t=3, p=4).
Raise the parameters here; stored hashes are upgraded at each person's next login."""

def _policy() -> dict:
    """The clinic's password policy (``resources/password_policy.json``), read each time so an
    edited copy counts at once."""
    return dict(load_resource("password_policy.json"))


def check_password_rules(password: str, username: str) -> None:
    """Refuse a password that is easy to guess, saying what to change.

    Length is what makes a password strong (NIST SP 800-63B), so there are no composition
    rules; but a long row of spaces or a dictionary word like ``password`` is long and still
    guessed at once, so zxcvbn's strength estimate must reach the clinic's threshold, with the
    person's user name counted as a known word (it is the first thing an attacker tries).
    """
    policy = _policy()
    min_length, max_length = int(policy["min_length"]), int(policy["max_length"])
    if len(password) < min_length:
        raise AccountError(f"A password needs at least {min_length} characters.")
    if len(password) > max_length:
        raise AccountError(f"A password has at most {max_length} characters.")
    if not password.strip():
        raise AccountError("A password cannot be only spaces: use words or other characters.")
    name = username.strip().lower()
    if password.strip().lower() == name:
        raise AccountError("The password must not be the user name.")
    score = int(zxcvbn(password, user_inputs=[name] if name else [])["score"])
    if score < int(policy["min_strength"]):
        if len(name) >= 2 and name in password.lower():
            raise AccountError("This password is too easy to guess: your user name in it counts for "
                               "nothing. Make it longer, for example a few unrelated words.")
        raise AccountError("This password is too easy to guess (a common word, a name, a keyboard "
                           "pattern or a repeat). Make it longer, for example a few unrelated words.")
