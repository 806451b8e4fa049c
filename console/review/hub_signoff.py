"""Signing a session off at a review station (the hub), and the chair taking that sign-off back.

A review station is a computer with the program and its own database (its accounts): the signer
types their password again there (21 CFR 11.200, as console.review.signoff.sign_session), and the
sign-off is written at the hub in ``hub_signoffs`` (append-only), with the SHA-256 of the session as
the hub holds it (:func:`hub_record_hash`). The chair that recorded the session takes it back
(:func:`take_back_signoffs`) as a signature of its own keeping the hub's uuid, so a session signed at
the hub is locked on its chair too and counts as signed once, not twice, on both sides.

:func:`hub_record_hash` reads only columns the chair holds too, by the same names and types, so
the chair computes the same digest from its own file (:func:`chair_hub_record_hash`): a chair can
tell whether the record it holds is the one that was signed at the hub.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import sqlite_utils

from console.audit import audit, write_transaction
from console.people.permissions import require
from console.people.user import AuthError, User
from console.review.signoff import MAX_COMMENT_LENGTH, MEANINGS, SignOffError, _clean, _confirm, record_hash
from db.database import inserted_id, new_uuid, utc_now
from db.hub import schema
from db.hub.schema import Column

log = logging.getLogger(__name__)

_SESSION_KEY: tuple[Column, ...] = (("uuid", "text"), ("patient_uuid", "text"), ("course_uuid", "text"))
_EVENT_KEY: tuple[Column, ...] = (("event_id", "bigint"),)

# (name in the digest, hub SELECT, chair SELECT, columns as hashed): the session row, its pulses,
# poses and events, each in key order. {cols} is the column list with the table's alias.
_RECORD: tuple[tuple[str, str, str, tuple[Column, ...]], ...] = (
    ("sessions", "SELECT {cols} FROM sessions s WHERE s.uuid = %s",
     "SELECT s.uuid, p.uuid, c.uuid, {rest} FROM sessions s JOIN patients p ON p.id = s.patient_id "
     "LEFT JOIN courses c ON c.id = s.course_id WHERE s.id = ?",
     (*_SESSION_KEY, *schema.SESSION_COLUMNS)),
    ("pulses", "SELECT {cols} FROM pulses s WHERE s.session_uuid = %s ORDER BY s.count",
     "SELECT {cols} FROM pulses s WHERE s.session_id = ? ORDER BY s.count", schema.PULSE_COLUMNS),
    ("poses", "SELECT {cols} FROM poses s WHERE s.session_uuid = %s ORDER BY s.idx",
     "SELECT {cols} FROM poses s WHERE s.session_id = ? ORDER BY s.idx", schema.POSE_COLUMNS),
    ("session_events", "SELECT {cols} FROM session_events s WHERE s.session_uuid = %s ORDER BY s.event_id",
     "SELECT s.id, {rest} FROM session_events s WHERE s.session_id = ? ORDER BY s.id",
     (*_EVENT_KEY, *schema.EVENT_COLUMNS)),
)


def _canonical(value: Any, kind: str) -> Any:
    """A value as both sides hash it: SQLite may hold 7 where PostgreSQL holds 7.0, and back."""
    if value is None:
        return None
    if kind.startswith("double"):
        return float(value)
    if kind.startswith("bigint"):
        return int(value)
    return str(value)


def _digest(parts: Iterable[tuple[str, tuple[Column, ...], Iterable[Sequence[Any]]]]) -> str:
    digest = hashlib.sha256()
    for table, columns, rows in parts:
        digest.update(json.dumps([table, schema.names(columns)]).encode())
        kinds = [kind for _, kind in columns]
        for row in rows:
            values = [_canonical(v, k) for v, k in zip(row, kinds, strict=True)]
            digest.update(json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode())
            digest.update(b"\n")
    return digest.hexdigest()


def _cols(columns: Sequence[Column]) -> str:
    return ", ".join(f"s.{name}" for name in schema.names(columns))


def hub_record_hash(conn: psycopg.Connection, session_uuid: str) -> str:
    """SHA-256 of the session as the hub holds it: its row, pulses, poses and events in key order
    (the same record console.review.signoff.record_hash covers on the chair; addenda are not in it)."""
    parts = []
    for table, hub_sql, _, columns in _RECORD:
        rows = conn.execute(hub_sql.format(cols=_cols(columns)).encode(), (session_uuid,)).fetchall()
        parts.append((table, columns, rows))
    return _digest(parts)


def chair_hub_record_hash(chair_db: sqlite_utils.Database, session_id: int) -> str:
    """:func:`hub_record_hash` computed from the chair's own file for its session ``session_id``."""
    parts = []
    for table, _, chair_sql, columns in _RECORD:
        key = {"sessions": 3, "session_events": 1}.get(table, 0)
        sql = chair_sql.format(cols=_cols(columns), rest=_cols(columns[key:]))
        parts.append((table, columns, chair_db.execute(sql, [session_id]).fetchall()))
    return _digest(parts)


@dataclass(frozen=True)
class HubSignoff:
    """One row of the hub's ``hub_signoffs``: a session signed off at a review station."""

    uuid: str
    session_uuid: str
    station: str
    signer_uuid: str | None
    signer_username: str
    signer_name: str
    signer_role: str
    meaning: str
    comment: str | None
    signed_at: str
    hub_record_hash: str


_HUB_SIGNOFF_COLUMNS = ("uuid, session_uuid, station, signer_uuid, signer_username, signer_name, "
                        "signer_role, meaning, comment, signed_at, hub_record_hash")

_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))"
"""One sign-off of a session at a time at the hub (two stations signing at once see each other)."""


def _already_signed_at_hub(conn: psycopg.Connection, signer: User, session_uuid: str, meaning: str) -> bool:
    """Signed with this meaning by this person (on a chair or at the hub), and no addendum signed since:
    as console.review.signoff._already_signed, with the hub's two lists."""
    row = conn.execute(
        "SELECT max(at) FROM ("
        " SELECT signed_at AS at FROM signatures WHERE session_uuid = %(s)s AND addendum_id IS NULL"
        "  AND meaning = %(m)s AND (user_uuid = %(uu)s OR signer_username = %(un)s)"
        " UNION ALL SELECT signed_at FROM hub_signoffs WHERE session_uuid = %(s)s AND meaning = %(m)s"
        "  AND (signer_uuid = %(uu)s OR signer_username = %(un)s)) x",
        {"s": session_uuid, "m": meaning, "uu": signer.uuid, "un": signer.username}).fetchone()
    last = row[0] if row else None
    if last is None:
        return False
    newer_addendum = conn.execute(
        "SELECT 1 FROM signatures WHERE session_uuid = %s AND addendum_id IS NOT NULL AND signed_at > %s "
        "LIMIT 1", (session_uuid, last)).fetchone()
    return newer_addendum is None


def sign_at_hub(conn: psycopg.Connection, station_db: sqlite_utils.Database, user: User, session_uuid: str,
                password: str, meaning: str, comment: str | None = None, *, station: str) -> HubSignoff:
    """Sign the hub's session ``session_uuid`` off as ``user`` (a supervisor of the review station
    whose database is ``station_db`` and whose chair id is ``station``), who types their password again.

    The same order as sign_session: permission first (a technician is refused and nothing is
    written, not even a failed-password count), then the request, then the password. The hub row
    and the station's audit row are committed together, or neither.
    """
    require(user, "sign_session")
    if meaning not in MEANINGS:
        raise SignOffError(f"A signature means one of {', '.join(MEANINGS)}, not {meaning!r}.")
    comment = _clean(comment, MAX_COMMENT_LENGTH, "comment")
    found = conn.execute("SELECT origin, status FROM sessions WHERE uuid = %s", (session_uuid,)).fetchone()
    if found is None:
        raise SignOffError(f"The hub holds no session {session_uuid}; check the id, or push the chair "
                           "that recorded it first.")
    if not password:
        raise AuthError("Type your password to sign.")
    signer = _confirm(station_db, user, password, "sign session at the hub")
    require(signer, "sign_session")  # the account may have changed since its holder logged in
    with conn.transaction():
        conn.execute(_LOCK_SQL, (session_uuid,))
        if _already_signed_at_hub(conn, signer, session_uuid, meaning):
            raise SignOffError(f"You have already signed this session as {meaning}.")
        signoff = HubSignoff(new_uuid(), session_uuid, station, signer.uuid, signer.username,
                             signer.full_name, signer.role, meaning, comment, utc_now(),
                             hub_record_hash(conn, session_uuid))
        conn.execute(f"INSERT INTO hub_signoffs ({_HUB_SIGNOFF_COLUMNS}) "
                     "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                     (signoff.uuid, signoff.session_uuid, signoff.station, signoff.signer_uuid,
                      signoff.signer_username, signoff.signer_name, signoff.signer_role, signoff.meaning,
                      signoff.comment, signoff.signed_at, signoff.hub_record_hash))
        with write_transaction(station_db):
            audit(station_db, signer, "sign_session_at_hub", "hub_session", session_uuid, None,
                  {"hub_signoff_uuid": signoff.uuid, "meaning": meaning, "comment": comment,
                   "hub_record_hash": signoff.hub_record_hash, "chair": str(found[0]), "status": found[1]})
    log.info("hub session %s signed (%s) by %s at station %s", session_uuid, meaning, signer.username,
             station)
    return signoff


def hub_signoffs_for(conn: psycopg.Connection, session_uuid: str) -> list[HubSignoff]:
    """The sign-offs made at review stations of one session, oldest first."""
    rows = conn.execute(f"SELECT {_HUB_SIGNOFF_COLUMNS} FROM hub_signoffs WHERE session_uuid = %s "
                        "ORDER BY signed_at, uuid", (session_uuid,)).fetchall()
    return [HubSignoff(*row) for row in rows]


# --- back to the chair ------------------------------------------------------------------------------

@dataclass
class TakenBack:
    """What :func:`take_back` did on one chair."""

    taken: int = 0
    """Hub sign-offs now held by the chair as signatures."""
    waiting: int = 0
    """Hub sign-offs left for a later time: the chair does not know the signer's account yet."""
    differing: list[str] = field(default_factory=list)
    """Hub sign-offs NOT taken back: the chair's record of the session is not the one signed at the
    hub (an entry added on the chair after the hub's copy, e.g. a side effect noted late). A
    signature says what its signer reviewed, so the chair does not put one on a record the signer
    has not seen; the session stays unsigned on the chair until someone signs what it holds."""


def _chair_user(chair_db: sqlite_utils.Database, signer_uuid: str | None, username: str) -> int | None:
    """The signer's account on this chair: by uuid, else by user name."""
    if signer_uuid:
        row = chair_db.execute("SELECT id FROM users WHERE uuid = ?", [signer_uuid]).fetchone()
        if row:
            return int(row[0])
    row = chair_db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()
    return int(row[0]) if row else None


def take_back(conn: psycopg.Connection, chair_db: sqlite_utils.Database, origin: str) -> TakenBack:
    """Every hub sign-off of a session this chair (``origin``) recorded that the chair does not hold
    yet becomes a chair signature keeping the hub's uuid, with an audit row naming the station, when
    the chair's record is the one signed (:func:`chair_hub_record_hash`; else see
    :attr:`TakenBack.differing`). Idempotent: a sign-off is taken once (the chair's unique index on
    hub_signoff_uuid)."""
    result = TakenBack()
    held = {str(r[0]) for r in chair_db.execute(
        "SELECT hub_signoff_uuid FROM signatures WHERE hub_signoff_uuid IS NOT NULL")}
    rows = conn.execute(f"SELECT {', '.join('h.' + c for c in _HUB_SIGNOFF_COLUMNS.split(', '))} "
                        "FROM hub_signoffs h JOIN sessions s ON s.uuid = h.session_uuid "
                        "WHERE s.origin = %s ORDER BY h.signed_at, h.uuid", (origin,)).fetchall()
    for signoff in (HubSignoff(*row) for row in rows):
        if signoff.uuid in held:
            continue
        session = chair_db.execute("SELECT id, status FROM sessions WHERE uuid = ?",
                                   [signoff.session_uuid]).fetchone()
        user_id = _chair_user(chair_db, signoff.signer_uuid, signoff.signer_username)
        if session is None or user_id is None:
            result.waiting += 1
            continue
        if chair_hub_record_hash(chair_db, int(session[0])) != signoff.hub_record_hash:
            result.differing.append(signoff.uuid)
            continue
        if _take_one(chair_db, signoff, int(session[0]), str(session[1]), user_id):
            result.taken += 1
    if result.taken or result.waiting or result.differing:
        log.info("hub sign-offs taken back: %d, waiting for an account: %d, record changed since: %d",
                 result.taken, result.waiting, len(result.differing))
    return result


def _take_one(chair_db: sqlite_utils.Database, signoff: HubSignoff, session_id: int, status: str,
              user_id: int) -> bool:
    """Write one chair signature and its audit row; False when this chair holds the sign-off already."""
    with write_transaction(chair_db):
        if chair_db.execute("SELECT 1 FROM signatures WHERE hub_signoff_uuid = ?",
                            [signoff.uuid]).fetchone():
            return False  # taken by another program on this chair meanwhile
        digest = record_hash(chair_db, session_id)
        signature_id = inserted_id(chair_db.execute(
            "INSERT INTO signatures (session_id, user_id, signer_username, signer_name, signer_role, "
            "meaning, comment, signed_at, record_hash, hub_signoff_uuid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [session_id, user_id, signoff.signer_username, signoff.signer_name, signoff.signer_role,
             signoff.meaning, signoff.comment, signoff.signed_at, digest, signoff.uuid]))
        audit(chair_db, signoff.signer_username, "sign_session", "session", session_id, None,
              {"signature_id": signature_id, "meaning": signoff.meaning, "comment": signoff.comment,
               "record_hash": digest, "status": status, "signed_at": signoff.signed_at,
               "signed_at_station": signoff.station, "hub_signoff_uuid": signoff.uuid,
               "hub_record_hash": signoff.hub_record_hash, "taken_back_at": utc_now()})
    log.info("session %s: sign-off %s made at review station %s taken back", session_id, signoff.uuid,
             signoff.station)
    return True


def take_back_signoffs(conn: psycopg.Connection, chair_db: sqlite_utils.Database, origin: str) -> int:
    """:func:`take_back`, returning how many hub sign-offs the chair took back this time."""
    return take_back(conn, chair_db, origin).taken
