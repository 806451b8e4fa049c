"""Electronic sign-off of a session record, and addenda after it.

A signature says who (user name and full name at the time), what it means
("reviewed" or "approved"), when, and carries a SHA-256 of the session's
record as it was signed, so anyone can later show the record has not changed
since (:func:`record_unchanged`). Signing needs the signer's password again
at that moment, not only a logged-in screen (21 CFR 11.200).

A signed session is locked: the record was already append-only once it
ended, and corrections are addenda. An addendum to a signed session is
signed by its author (meaning "authored", same password confirmation), so a
signed record never gains an unsigned line.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from console.audit import audit, write_transaction
from console.errors import ClinicError
from console.people.login import WRONG_PASSWORD, confirm_password
from console.people.permissions import require
from console.people.user import AuthError, User, refresh
from db.database import inserted_id, utc_now

log = logging.getLogger(__name__)

MEANINGS = ("reviewed", "approved")
ADDENDUM_MEANING = "authored"
MAX_ADDENDUM_LENGTH = 5000
MAX_COMMENT_LENGTH = 2000


class SignOffError(ClinicError):
    """The sign-off or addendum cannot be made (session still recording, empty text, ...)."""


@dataclass(frozen=True)
class Signature:
    """One signature; ``addendum_id`` is set when it signs an addendum rather than the session."""

    id: int
    session_id: int
    signer_username: str
    signer_name: str
    meaning: str
    comment: str | None
    signed_at: str
    signer_role: str = ""
    record_hash: str = ""
    addendum_id: int | None = None


_SIG_COLUMNS = ("id, session_id, signer_username, signer_name, meaning, comment, signed_at, "
                "signer_role, record_hash, addendum_id")


def _signature(row: Any) -> Signature:
    return Signature(*row)


def _session_status(db: sqlite_utils.Database, session_id: int) -> str:
    row = db.execute("SELECT status FROM sessions WHERE id = ?", [session_id]).fetchone()
    if row is None:
        raise SignOffError(f"There is no session {session_id}.")
    return row[0]


def record_hash(db: sqlite_utils.Database, session_id: int) -> str:
    """SHA-256 of the session's record: the session row, every pulse, pose and session event.

    Addenda are not part of it: they come later and carry their own signatures.
    """
    digest = hashlib.sha256()
    queries = (
        ("sessions", "SELECT * FROM sessions WHERE id = ?"),
        ("pulses", "SELECT * FROM pulses WHERE session_id = ? ORDER BY count"),
        ("poses", "SELECT * FROM poses WHERE session_id = ? ORDER BY idx"),
        ("session_events", "SELECT * FROM session_events WHERE session_id = ? ORDER BY id"),
    )
    for table, sql in queries:
        cursor = db.execute(sql, [session_id])
        names = [c[0] for c in cursor.description]
        digest.update(json.dumps([table, names]).encode())
        for row in cursor:
            digest.update(json.dumps(list(row), separators=(",", ":"), default=repr).encode())
            digest.update(b"\n")
    return digest.hexdigest()


def signatures_for(db: sqlite_utils.Database, session_id: int) -> list[Signature]:
    """The session's sign-offs ("reviewed", "approved"), oldest first."""
    rows = db.execute(f"SELECT {_SIG_COLUMNS} FROM signatures WHERE session_id = ? "
                      "AND addendum_id IS NULL ORDER BY id", [session_id]).fetchall()
    return [_signature(r) for r in rows]


def addendum_signatures(db: sqlite_utils.Database, session_id: int) -> dict[int, Signature]:
    """The signatures of the session's addenda, by addendum id (addenda written after sign-off)."""
    rows = db.execute(f"SELECT {_SIG_COLUMNS} FROM signatures WHERE session_id = ? "
                      "AND addendum_id IS NOT NULL ORDER BY id", [session_id]).fetchall()
    return {row[9]: _signature(row) for row in rows}


def is_signed(db: sqlite_utils.Database, session_id: int) -> bool:
    """Whether anyone has signed the session off (it is then locked)."""
    return db.execute("SELECT 1 FROM signatures WHERE session_id = ? AND addendum_id IS NULL LIMIT 1",
                      [session_id]).fetchone() is not None


def record_unchanged(db: sqlite_utils.Database, signature: Signature) -> bool:
    """Whether the session's record is still exactly what ``signature`` signed."""
    return record_hash(db, signature.session_id) == signature.record_hash


def _confirm(db: sqlite_utils.Database, user: User, password: str, purpose: str) -> User:
    """The signer, re-authenticated. The log-in screen's "wrong user name or password" would name a
    field the signing dialog does not have (the name is the logged-in person's): say "password"."""
    try:
        return confirm_password(db, user, password, purpose=purpose)
    except AuthError as exc:
        if str(exc) == WRONG_PASSWORD:
            raise AuthError("Wrong password: type your own password to sign.") from exc
        raise


def _clean(text: str | None, limit: int, what: str) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if len(text) > limit:
        raise SignOffError(f"The {what} has {len(text)} characters; at most {limit} fit.")
    return text or None


def sign_session(db: sqlite_utils.Database, user: User, session_id: int, password: str,
                 meaning: str, comment: str | None = None) -> Signature:
    """Sign the session off as ``user`` (a supervisor), who types their password again.

    Order matters: the permission is checked first (a technician is refused and
    nothing is written, not even a failed-password count), then the request,
    then the password.
    """
    require(user, "sign_session")
    if meaning not in MEANINGS:
        raise SignOffError(f"A signature means one of {', '.join(MEANINGS)}, not {meaning!r}.")
    comment = _clean(comment, MAX_COMMENT_LENGTH, "comment")
    status = _session_status(db, session_id)
    if status == "recording":
        raise SignOffError("This session is still recording; sign it after it has ended.")
    if not password:
        raise AuthError("Type your password to sign.")
    signer = _confirm(db, user, password, "sign session")
    require(signer, "sign_session")  # the account may have changed since its holder logged in
    with write_transaction(db):
        if _already_signed(db, signer, session_id, meaning):
            raise SignOffError(f"You have already signed this session as {meaning}.")
        signed_at = utc_now()
        digest = record_hash(db, session_id)
        cursor = db.execute(
            "INSERT INTO signatures (session_id, user_id, signer_username, signer_name, signer_role, "
            "meaning, comment, signed_at, record_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [session_id, signer.id, signer.username, signer.full_name, signer.role, meaning, comment,
             signed_at, digest],
        )
        signature = Signature(inserted_id(cursor), session_id, signer.username, signer.full_name, meaning,
                              comment, signed_at, signer.role, digest, None)
        audit(db, signer, "sign_session", "session", session_id, None,
              {"signature_id": signature.id, "meaning": meaning, "comment": comment,
               "record_hash": digest, "status": status})
    log.info("session %s signed (%s) by %s", session_id, meaning, signer.username)
    return signature


def _already_signed(db: sqlite_utils.Database, signer: User, session_id: int, meaning: str) -> bool:
    """Signed with this meaning by this person, and no addendum since (a new addendum may be
    reviewed and signed again)."""
    last = db.execute(
        "SELECT max(id) FROM signatures WHERE session_id = ? AND addendum_id IS NULL "
        "AND user_id = ? AND meaning = ?", [session_id, signer.id, meaning]).fetchone()[0]
    if last is None:
        return False
    newer_addendum = db.execute(
        "SELECT 1 FROM signatures WHERE session_id = ? AND addendum_id IS NOT NULL AND id > ?",
        [session_id, last]).fetchone()
    return newer_addendum is None


def add_addendum(db: sqlite_utils.Database, user: User, session_id: int, text: str,
                 password: str | None = None) -> int:
    """Append a correction or later remark to an ended session; returns the addendum's id.

    On a signed session the author types their password and the addendum is
    signed ("authored"); on an unsigned one the password is not needed.
    """
    require(user, "add_addendum")
    body = _clean(text, MAX_ADDENDUM_LENGTH, "addendum")
    if not body:
        raise SignOffError("Write the addendum first.")
    if _session_status(db, session_id) == "recording":
        raise SignOffError("This session is still recording; add notes to it from the "
                           "session screen, addenda after it has ended.")
    signed = is_signed(db, session_id)
    if signed:
        if not password:
            raise AuthError("This session is signed: type your password to sign the addendum.")
        author = _confirm(db, user, password, "sign addendum")
    else:
        author = refresh(db, user)
    require(author, "add_addendum")  # the account may have changed since its holder logged in
    with write_transaction(db):
        at = utc_now()
        addendum_id = inserted_id(db.execute(
            "INSERT INTO addenda (session_id, at, by_user, text) VALUES (?, ?, ?, ?)",
            [session_id, at, author.username, body],
        ))
        new: dict[str, Any] = {"addendum_id": addendum_id, "text": body}
        if signed:
            digest = record_hash(db, session_id)
            signature_id = inserted_id(db.execute(
                "INSERT INTO signatures (session_id, addendum_id, user_id, signer_username, signer_name, "
                "signer_role, meaning, comment, signed_at, record_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                [session_id, addendum_id, author.id, author.username, author.full_name, author.role,
                 ADDENDUM_MEANING, at, digest],
            ))
            new["signature_id"] = signature_id
        audit(db, author, "add_addendum", "session", session_id, None, new)
    log.info("addendum %s added to session %s by %s", addendum_id, session_id, author.username)
    return addendum_id
