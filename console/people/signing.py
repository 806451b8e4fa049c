"""A signed decision: the person allowed to make it types their password again.

A supervisor's clearance of a contraindication or override of a safety limit
is an electronic signature, so being logged in is not enough: the signer
re-authenticates at the moment of signing (as a sign-off does). The password
is checked by the accounts module (wrong ones count towards its lockout) and
then forgotten; it never reaches the database or the log.
"""

from __future__ import annotations

import logging

import sqlite_utils

from console.errors import ClinicError
from console.people.login import confirm_password
from console.people.permissions import require
from console.people.user import AuthError, User

log = logging.getLogger(__name__)


class SignatureRejected(ClinicError):
    """The password did not confirm the signer; nothing was written."""


def confirm_signer(
    db: sqlite_utils.Database, signer: User, password: str, action: str, *, purpose: str | None = None
) -> User:
    """The signer, re-authenticated and allowed to do ``action``; else an error, nothing written.

    The permission is checked first, so a person who may not sign is refused
    without a password attempt counting against their account.
    """
    require(signer, action)
    if not password:
        raise SignatureRejected("Type your password to sign.")
    try:
        confirmed = confirm_password(db, signer, password, purpose=purpose or action)
    except AuthError as exc:
        raise SignatureRejected(f"The signature was not accepted: {exc}") from exc
    require(confirmed, action)  # the account may have changed since its holder logged in
    log.info("%s signed (%s)", confirmed.username, purpose or action)
    return confirmed
