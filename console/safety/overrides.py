"""Overrides: a person's recorded decision to go on although a check said no.

Three kinds share one append-only table: ``safety_limit`` (the protocol, or
the device's intensity above the prescription, is outside what was prescribed
or the clinic's limits: a physician's signed override), ``intensity`` (the
device intensity is below the prescription: the technician's reason) and ``schedule`` (a
session earlier than the course schedule allows: a technician's reason; beyond the day's plan:
a physician's signature). Each keeps who, when, why
and exactly what the check reported, and writes an audit row in the same
transaction. An override is usually given before its session exists, so it
names the course and is linked to the session once, when the session starts
(:func:`attach_to_session`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlite_utils

from console.audit import audit, write_transaction
from console.errors import ClinicError, PermissionDenied
from console.people.permissions import require, who_may
from console.people.user import refresh
from db.database import inserted_id, new_uuid, utc_now

if TYPE_CHECKING:
    from console.people.user import User

log = logging.getLogger(__name__)

Kind = Literal["safety_limit", "intensity", "schedule"]
KINDS: tuple[str, ...] = ("safety_limit", "intensity", "schedule")


@dataclass(frozen=True)
class Scope:
    """What an override is for: a course (before its session exists) or a session."""

    course_id: int | None = None
    session_id: int | None = None

    @classmethod
    def course(cls, course_id: int) -> Scope:
        return cls(course_id=course_id)

    @classmethod
    def session(cls, session_id: int) -> Scope:
        return cls(session_id=session_id)


@dataclass(frozen=True)
class Override:
    id: int
    kind: str
    patient_id: int | None
    course_id: int | None
    session_id: int | None
    violations: list[dict[str, Any]]
    reason: str
    by_user: str
    by_role: str
    signed: bool
    at: str


def _violation_dicts(violations: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for v in violations:
        if isinstance(v, dict):
            out.append({"code": str(v.get("code", "")), "message": str(v.get("message", ""))})
        else:
            out.append({"code": str(getattr(v, "code", "")), "message": str(getattr(v, "message", v))})
    return out


def _resolve_scope(db: sqlite_utils.Database, scope: Scope) -> tuple[int | None, int | None, int | None]:
    """(patient_id, course_id, session_id), checked to exist."""
    if scope.session_id is not None:
        row = db.execute(
            "SELECT patient_id, course_id FROM sessions WHERE id = ?", [scope.session_id]
        ).fetchone()
        if row is None:
            raise ClinicError(f"There is no session {scope.session_id}.")
        return row[0], scope.course_id if scope.course_id is not None else row[1], scope.session_id
    if scope.course_id is not None:
        row = db.execute("SELECT patient_id FROM courses WHERE id = ?", [scope.course_id]).fetchone()
        if row is None:
            raise ClinicError(f"There is no course {scope.course_id}.")
        return row[0], scope.course_id, None
    raise ClinicError("An override must name the course or the session it is for.")


def record(
    db: sqlite_utils.Database,
    user: User,
    kind: Kind,
    scope: Scope,
    violations: Iterable[Any],
    reason: str,
    *,
    signed: bool,
) -> int:
    """Store one override (and its audit row) in one transaction; returns its id.

    Callers check the permission (and the signature, for a signed one) first. A safety-limit
    override is checked here too, whoever calls: it must be signed, by an account whose role
    *now* (read from the database, not from the object the caller holds) may sign it, so no
    path records a technician's reason as if it lifted a limit (issue 15).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown override kind {kind!r}")
    if kind == "safety_limit":
        if not signed:
            raise PermissionDenied(f"Going past a safety limit needs the signed override of "
                                   f"{who_may('override_safety')}; a reason alone is not enough.")
        user = refresh(db, user)
        require(user, "override_safety")
    reason = (reason or "").strip()
    if not reason:
        raise ClinicError("Give the reason for going on: it is kept with the record.")
    patient_id, course_id, session_id = _resolve_scope(db, scope)
    items = _violation_dicts(violations)
    row = {
        "uuid": new_uuid(),
        "kind": kind,
        "patient_id": patient_id,
        "course_id": course_id,
        "session_id": session_id,
        "violations": json.dumps(items, ensure_ascii=False),
        "reason": reason,
        "by_user": user.username,
        "by_role": user.role,
        "signed": int(signed),
        "at": utc_now(),
    }
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO overrides (uuid, kind, patient_id, course_id, session_id, violations, reason, "
            "by_user, by_role, signed, at) VALUES (:uuid, :kind, :patient_id, :course_id, :session_id, "
            ":violations, :reason, :by_user, :by_role, :signed, :at)",
            row,
        )
        override_id = inserted_id(cursor)
        audit(db, user, f"override_{kind}", "override", override_id, None, {**row, "violations": items})
    log.info(
        "%s override %d by %s (course %s, session %s)",
        kind,
        override_id,
        user.username,
        course_id,
        session_id,
    )
    return override_id


def attach_to_session(db: sqlite_utils.Database, override_ids: Sequence[int], session_id: int) -> None:
    """Link overrides given before the session existed to it (once; the table refuses more)."""
    if not override_ids:
        return
    with write_transaction(db):
        for override_id in override_ids:
            db.execute(
                "UPDATE overrides SET session_id = ? WHERE id = ? AND session_id IS NULL",
                [session_id, override_id],
            )


def _from_row(row: tuple[Any, ...]) -> Override:
    (oid, kind, patient_id, course_id, session_id, violations, reason, by_user, by_role, signed, at) = row
    return Override(
        oid,
        kind,
        patient_id,
        course_id,
        session_id,
        json.loads(violations),
        reason,
        by_user,
        by_role,
        bool(signed),
        at,
    )


_COLUMNS = "id, kind, patient_id, course_id, session_id, violations, reason, by_user, by_role, signed, at"


def for_session(db: sqlite_utils.Database, session_id: int) -> list[Override]:
    """Every override linked to a session, oldest first (for the review and the record)."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM overrides WHERE session_id = ? ORDER BY id", [session_id]
    ).fetchall()
    return [_from_row(r) for r in rows]


def for_course(db: sqlite_utils.Database, course_id: int) -> list[Override]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM overrides WHERE course_id = ? ORDER BY id", [course_id]
    ).fetchall()
    return [_from_row(r) for r in rows]


def signed_covering(
    db: sqlite_utils.Database,
    kind: Kind,
    messages: Iterable[str],
    *,
    session_id: int | None = None,
    course_id: int | None = None,
) -> int | None:
    """The newest signed override of ``kind`` whose problems include every one of ``messages``, word
    for word: linked to this session, or given today for the course and not yet linked to any
    session; None when there is none (a changed setting is a new problem and needs a new one)."""
    wanted = set(messages)
    today = datetime.now().astimezone().date()
    rows = db.execute(
        "SELECT id, violations, at, session_id FROM overrides WHERE kind = ? AND signed = 1 "
        "AND ((session_id IS NOT NULL AND session_id = ?) "
        "OR (session_id IS NULL AND course_id IS NOT NULL AND course_id = ?)) ORDER BY id DESC",
        [kind, session_id, course_id],
    ).fetchall()
    for override_id, violations, at, linked in rows:
        if linked is None and datetime.fromisoformat(at).astimezone().date() != today:
            continue
        if wanted <= {v.get("message") for v in json.loads(violations)}:
            return int(override_id)
    return None
