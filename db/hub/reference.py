"""Mutable reference data at the hub (patients, courses, accounts): who wins, and what is kept of the loser.

One place for the rule, whatever brings a row to the hub: a session (db.hub.push._send_session), a
safety record (db.hub.push._send_safety), the push of what was made or edited on the chair
(db.hub.push.push_reference) or a pull that finds a local edit the hub has not seen (db.hub.pull).

Each hub row has a ``revision``. A chair's differing values are judged against its **base**: the
revision and values hash it last agreed with the hub, the higher of what the chair remembers from
its last pull (its ``hub_reference`` table) and what the hub remembers it took from that chair
(``reference_agreed``). Then:

- values equal to the hub's: nothing to do (the agreement is noted);
- values equal to the base: not edited on the chair, merely older; the chair's next pull brings the
  hub's values;
- edited on the chair and the hub still at the base revision: the hub takes them (revision + 1);
- edited on the chair and the hub moved on meanwhile (another chair's edit came first): the hub keeps
  its values and the chair's are kept in ``conflicts``, for an admin to see. Never silently lost.

A patient (account) new at the hub whose clinic id (user name) another patient (account) already has
there is kept beside it, and a conflict of kind 'same clinic id' ('same user name') names both: their
sessions must never be merged by guess.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from db.hub import schema
from db.hub.schema import names
from db.hub.schema_pull import ACCOUNT_VALUE_COLUMNS

Row = tuple[Any, ...]
Base = tuple[int, str]
"""(hub revision, hash of the values) a chair agreed with the hub."""

PATIENT = ["uuid", "local_id", *names(schema.PATIENT_COLUMNS), "origin"]
COURSE = ["uuid", "local_id", "patient_uuid", *names(schema.COURSE_COLUMNS), "origin"]


@dataclass(frozen=True)
class Entity:
    """A kind of mutable reference row: its hub table, the chair's table and the values that travel.

    ``parent``: (chair column, chair table, hub column) of the row it belongs to (a course's patient).
    ``label``: the column people know the row by, unique on a chair but not at the hub
    (clinic id, user name); ``same_label``: the conflict kind when two chairs made the same one.
    """

    name: str
    table: str
    chair_table: str
    values: tuple[str, ...]
    parent: tuple[str, str, str] | None = None
    label: str | None = None
    same_label: str | None = None


PATIENTS = Entity("patient", "patients", "patients", tuple(names(schema.PATIENT_COLUMNS)),
                  label="clinic_id", same_label="same clinic id")
COURSES = Entity("course", "courses", "courses", tuple(names(schema.COURSE_COLUMNS)),
                 parent=("patient_id", "patients", "patient_uuid"))
ACCOUNTS = Entity("account", "accounts", "users", tuple(names(ACCOUNT_VALUE_COLUMNS)),
                  label="username", same_label="same user name")
ENTITIES = (ACCOUNTS, PATIENTS, COURSES)
"""In the order they go both ways: a course after its patient."""


@dataclass(frozen=True)
class ChairRow:
    """One row as the chair holds it: its uuid, id on the chair, parent's uuid and values."""

    uuid: str
    local_id: int
    parent_uuid: str | None
    values: tuple[Any, ...]


def values_hash(values: Sequence[Any]) -> str:
    """The same hash for the same values on the chair (SQLite) and at the hub (PostgreSQL)."""
    text = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chair_select(e: Entity) -> str:
    """The chair's rows of ``e`` as (uuid, id, parent uuid, values...); append a WHERE on ``t``."""
    parent = f"j.uuid FROM {e.chair_table} t JOIN {e.parent[1]} j ON j.id = t.{e.parent[0]}" \
        if e.parent else f"NULL FROM {e.chair_table} t"
    return f"SELECT t.uuid, t.id, {', '.join(f't.{c}' for c in e.values)}, {parent}"


def chair_row(raw: Sequence[Any]) -> ChairRow:
    """A row read with :func:`chair_select`."""
    return ChairRow(str(raw[0]), int(raw[1]), None if raw[-1] is None else str(raw[-1]), tuple(raw[2:-1]))


def ident_list(columns: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def _marks(n: int) -> sql.Composed:
    return sql.SQL(", ").join(sql.Placeholder() * n)


def upsert(table: str, columns: Sequence[str], conflict: Sequence[str], fixed: Sequence[str]) -> sql.Composed:
    """Insert, or bring the hub's row up to the chair's (only when it differs, so no row churns).

    For rows only their chair ever changes (motor thresholds): never for reference rows, see
    :func:`reconcile`."""
    changing = [c for c in columns if c not in conflict and c not in fixed]
    return sql.SQL("INSERT INTO {t} ({cols}) VALUES ({vals}) ON CONFLICT ({key}) DO UPDATE SET ({chg}) = "
                   "ROW({exc}) WHERE ({cur}) IS DISTINCT FROM ({exc})").format(
        t=sql.Identifier(table), cols=ident_list(columns),
        vals=sql.SQL(", ").join(sql.Placeholder() * len(columns)), key=ident_list(conflict),
        chg=ident_list(changing),
        exc=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in changing),
        cur=sql.SQL(", ").join(sql.SQL("{}.{}").format(sql.Identifier(table), sql.Identifier(c))
                               for c in changing))


def agreed_at_hub(conn: psycopg.Connection, origin: str) -> dict[tuple[str, str], Base]:
    """Everything the hub took from (or found equal on) this chair, in one round trip."""
    rows = conn.execute("SELECT entity, uuid, revision, values_hash FROM reference_agreed WHERE origin = %s",
                        (origin,))
    return {(str(e), str(u)): (int(r), str(h)) for e, u, r, h in rows}


def base_of(*known: Base | None) -> Base | None:
    """The latest agreement among those known (the chair's and the hub's memory)."""
    found = [b for b in known if b is not None]
    return max(found, key=lambda b: b[0]) if found else None


def _agree(conn: psycopg.Connection, e: Entity, uuid: str, origin: str, revision: int, digest: str) -> None:
    conn.execute("INSERT INTO reference_agreed (entity, uuid, origin, revision, values_hash) "
                 "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (origin, entity, uuid) DO UPDATE "
                 "SET revision = EXCLUDED.revision, values_hash = EXCLUDED.values_hash "
                 "WHERE reference_agreed.revision <= EXCLUDED.revision AND (reference_agreed.revision, "
                 "reference_agreed.values_hash) IS DISTINCT FROM (EXCLUDED.revision, EXCLUDED.values_hash)",
                 (e.name, uuid, origin, revision, digest))


def _conflict(conn: psycopg.Connection, e: Entity, uuid: str, kind: str, origin: str, *,
              loser: Mapping[str, Any] | None, winner: Mapping[str, Any] | None, loser_hash: str,
              other_uuid: str | None = None, base: int | None = None,
              hub_revision: int | None = None) -> None:
    conn.execute("INSERT INTO conflicts (entity, uuid, kind, losing_origin, other_uuid, base_revision, "
                 "hub_revision, loser_values, winner_values, loser_hash) "
                 "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                 (e.name, uuid, kind, origin, other_uuid, base, hub_revision,
                  None if loser is None else Jsonb(dict(loser)),
                  None if winner is None else Jsonb(dict(winner)), loser_hash))


def _same_label(conn: psycopg.Connection, e: Entity, row: ChairRow, origin: str, digest: str) -> None:
    """Another row at the hub with this row's clinic id (user name): both kept, a conflict says so."""
    if e.label is None or e.same_label is None:
        return
    label = row.values[e.values.index(e.label)]
    query = sql.SQL("SELECT uuid FROM {t} WHERE lower({l}) = lower(%s) AND uuid <> %s ORDER BY uuid")
    others = conn.execute(query.format(t=sql.Identifier(e.table), l=sql.Identifier(e.label)),
                          (label, row.uuid)).fetchall()
    for (other,) in others:
        _conflict(conn, e, row.uuid, e.same_label, origin, loser=dict(zip(e.values, row.values, strict=True)),
                  winner=None, loser_hash=digest, other_uuid=str(other))


def _hub_row(conn: psycopg.Connection, e: Entity, uuid: str) -> Row | None:
    """The hub's row, locked against another chair's judgement until this transaction ends. NO KEY
    UPDATE, not UPDATE: a row inserted meanwhile that names it (a course, a session: their foreign
    key check takes KEY SHARE) does not wait for it, so pushes from several chairs cannot deadlock
    (each transaction locks patients, then courses, each in uuid order)."""
    query = sql.SQL("SELECT revision, changed_by, origin, {v} FROM {t} WHERE uuid = %s FOR NO KEY UPDATE")
    return conn.execute(query.format(v=ident_list(e.values), t=sql.Identifier(e.table)), (uuid,)).fetchone()


def reconcile(conn: psycopg.Connection, e: Entity, row: ChairRow, origin: str, book: Base | None) -> str:
    """Bring one chair row to the hub under the rule above, inside the caller's hub transaction.

    ``book``: what the chair remembers agreeing at its last pull. Returns what happened: 'new'
    (inserted), 'same' (equal already), 'behind' (not edited on the chair; the hub's are newer),
    'taken' (the hub took the chair's edit) or 'lost' (kept in conflicts; the hub keeps its own).
    """
    digest = values_hash(row.values)
    hub = _hub_row(conn, e, row.uuid)
    if hub is None:
        parent = [e.parent[2]] if e.parent else []
        columns = ["uuid", "origin", "local_id", *parent, *e.values, "changed_by"]
        insert = sql.SQL("INSERT INTO {t} ({c}) VALUES ({v}) ON CONFLICT (uuid) DO NOTHING RETURNING uuid")
        inserted = conn.execute(
            insert.format(t=sql.Identifier(e.table), c=ident_list(columns), v=_marks(len(columns))),
            (row.uuid, origin, row.local_id, *([row.parent_uuid] if e.parent else []), *row.values, origin)
        ).fetchone()
        if inserted is None:  # made by a push running beside this one: judge against it
            return reconcile(conn, e, row, origin, book)
        _agree(conn, e, row.uuid, origin, 1, digest)
        _same_label(conn, e, row, origin, digest)
        return "new"
    revision, changed_by, creator, *hub_values = hub
    hub_digest = values_hash(hub_values)
    if hub_digest == digest:
        _agree(conn, e, row.uuid, origin, int(revision), digest)
        return "same"
    agreed = conn.execute("SELECT revision, values_hash FROM reference_agreed "
                          "WHERE origin = %s AND entity = %s AND uuid = %s",
                          (origin, e.name, row.uuid)).fetchone()
    base = base_of(book, (int(agreed[0]), str(agreed[1])) if agreed else None)
    if base is None and changed_by is None and creator == origin:
        base = (int(revision), hub_digest)  # pushed by this chair before revisions existed
    if base is not None and base[1] == digest:
        return "behind"
    if base is not None and base[0] == int(revision):
        update = sql.SQL("UPDATE {t} SET ({v}) = ROW({p}), revision = revision + 1, changed_by = %s, "
                         "changed_at = now() WHERE uuid = %s")
        table, changing = sql.Identifier(e.table), ident_list(e.values)
        conn.execute(update.format(t=table, v=changing, p=_marks(len(e.values))),
                     (*row.values, origin, row.uuid))
        _agree(conn, e, row.uuid, origin, int(revision) + 1, digest)
        if e.label is not None and row.values[e.values.index(e.label)] != hub_values[e.values.index(e.label)]:
            _same_label(conn, e, row, origin, digest)
        return "taken"
    _conflict(conn, e, row.uuid, "edit", origin, loser=dict(zip(e.values, row.values, strict=True)),
              winner=dict(zip(e.values, hub_values, strict=True)), loser_hash=digest,
              base=None if base is None else base[0], hub_revision=int(revision))
    return "lost"


def send_reference(conn: psycopg.Connection, patients: Sequence[Row], courses: Sequence[Row], origin: str,
                   books: Mapping[tuple[str, str], Base] | None = None) -> None:
    """The patients (rows as :data:`PATIENT` without origin) and courses (as :data:`COURSE`) a
    chair's session or safety rows name, inside the caller's hub transaction, patients first:
    inserted when new, otherwise judged by :func:`reconcile` (never a silent overwrite)."""
    books = books or {}
    for p in patients:
        row = ChairRow(str(p[0]), int(p[1]), None, tuple(p[2:]))
        reconcile(conn, PATIENTS, row, origin, books.get((PATIENTS.name, row.uuid)))
    for c in courses:
        row = ChairRow(str(c[0]), int(c[1]), str(c[2]), tuple(c[3:]))
        reconcile(conn, COURSES, row, origin, books.get((COURSES.name, row.uuid)))


# --- what the chair remembers (read by the push, read-only, and by the pull) ----------------------

def chair_books(chair: sqlite3.Connection) -> dict[tuple[str, str], Base]:
    """What this chair agreed with the hub at its pulls, per (entity, uuid); empty on a file that
    has never pulled (or whose schema predates the pull)."""
    try:
        rows = chair.execute("SELECT entity, uuid, revision, values_hash FROM hub_reference").fetchall()
    except sqlite3.OperationalError:
        return {}
    return {(str(e), str(u)): (int(r), str(h)) for e, u, r, h in rows}


def chair_pulled(chair: sqlite3.Connection) -> dict[str, set[int]]:
    """Per chair table, the ids of rows that came from another chair through the hub: never pushed
    as this chair's."""
    try:
        rows = chair.execute("SELECT entity, local_id FROM hub_pulled").fetchall()
    except sqlite3.OperationalError:
        return {}
    pulled: dict[str, set[int]] = {}
    for entity, local_id in rows:
        pulled.setdefault(str(entity), set()).add(int(local_id))
    return pulled
