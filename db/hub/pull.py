"""Pulling reference data from the hub into a chair: :func:`pull_reference`, and the hub's conflicts.

What a chair takes from the hub: accounts, patients and courses newer at the hub than what the chair
last agreed (by revision), and the motor thresholds, screenings and clearances of screenings other
chairs pushed. Rows keep their uuids; a pulled row another chair made is remembered in the chair's
``hub_pulled`` (its origin and hub key), so this chair's push never sends it as its own.

A patient, course or account edited on this chair that the hub has not judged yet is judged first
(db.hub.reference.reconcile): taken by the hub, or kept in the hub's conflicts. Only then does the
chair take the hub's values, with an audit row naming the hub as the actor. A local edit is never
overwritten unseen: in the chair's write transaction the row must still hash to what was judged.

A row that cannot go into the chair as it is, is held back and said so, never forced: a patient whose
clinic id another patient has on this chair (two chairs registered it offline: both are kept at the
hub, where a conflict says so), an account whose user name is taken here, a course whose patient was
held back, a second open course for a patient. Each pull tries them again.

Each batch (at most :data:`PULL_BATCH` rows) is one short chair write transaction, so a recording on
the chair never waits long for a pull. Pulling twice changes nothing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import sqlite_utils
from psycopg import sql

from db.database import DatabaseUnusable, connect, open_database, utc_now, write_transaction
from db.hub import schema
from db.hub.link import lost_reason
from db.hub.push import ChairDatabaseError, HubError, connect_hub, describe, require_schema
from db.hub.reference import (
    ENTITIES,
    Base,
    ChairRow,
    Entity,
    agreed_at_hub,
    base_of,
    chair_books,
    chair_row,
    chair_select,
    ident_list,
    reconcile,
    values_hash,
)
from db.hub.schema import names
from db.hub.settings_sync import pull_settings

AuditHook = Callable[[sqlite_utils.Database, str, str, str, Any, Mapping[str, Any] | None,
                      Mapping[str, Any] | None], None]
"""console.audit.audit's shape: (db, actor, action, entity, entity_id, old, new). The db layer does
not import the console; the caller hands the chair's audit writer in."""

PULL_ACTOR = "hub"
"""The actor of the chair's audit rows a pull writes: the values came from the hub's decision."""

PULL_BATCH = 500
"""Rows per chair write transaction."""

PULL_ADVICE = "the chair keeps working with what it has, and the next pull brings what is new"

PULLED_SAFETY = ("screenings", "clearances")
"""Clinical safety records another chair's screening decisions rest on: taken whole, in this order."""


@dataclass(frozen=True)
class HeldBack:
    """A hub row not taken into this chair, and why, in one sentence for a person."""

    table: str
    key: str
    reason: str


@dataclass
class PullResult:
    origin: str
    inserted: dict[str, int] = field(default_factory=dict)
    """New rows on the chair, per chair table."""
    updated: dict[str, int] = field(default_factory=dict)
    """Patients, courses, accounts (chair table ``users``) set to the hub's newer values."""
    taken_at_hub: int = 0
    """Edits made on this chair that the hub took during this pull."""
    lost: list[str] = field(default_factory=list)
    """Uuids of rows whose edit on this chair lost to one made elsewhere first: the hub keeps it in
    its conflicts, and the chair now shows the hub's values."""
    held_back: list[HeldBack] = field(default_factory=list)
    seconds: float = 0.0


def _count(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _id_of(db: sqlite_utils.Database, table: str, uuid: str | None) -> int | None:
    if uuid is None:
        return None
    row = db.execute(f"SELECT id FROM {table} WHERE uuid = ?", [uuid]).fetchone()
    return int(row[0]) if row else None


def _local_rows(db: sqlite_utils.Database, e: Entity, uuids: Sequence[str]) -> dict[str, ChairRow]:
    marks = ", ".join("?" * len(uuids))
    return {r.uuid: r for r in (chair_row(raw) for raw in
                                db.execute(f"{chair_select(e)} WHERE t.uuid IN ({marks})", list(uuids)))}


def _book(db: sqlite_utils.Database, e: Entity, uuid: str, revision: int, digest: str) -> None:
    db.execute("INSERT OR REPLACE INTO hub_reference (entity, uuid, revision, values_hash) "
               "VALUES (?, ?, ?, ?)", [e.name, uuid, revision, digest])


def _mark_pulled(db: sqlite_utils.Database, table: str, local_id: int, origin: str, key: str) -> None:
    db.execute("INSERT OR IGNORE INTO hub_pulled (entity, local_id, origin, hub_key, pulled_at) "
               "VALUES (?, ?, ?, ?, ?)", [table, local_id, origin, key, utc_now()])


# --- patients, courses, accounts -----------------------------------------------------------------

@dataclass
class _HubRow:
    uuid: str
    origin: str
    revision: int
    changed_by: str | None
    parent_uuid: str | None
    values: tuple[Any, ...]


def _hub_rows(conn: psycopg.Connection, e: Entity, uuids: Sequence[str]) -> list[_HubRow]:
    parent = sql.Identifier(e.parent[2]) if e.parent else sql.SQL("NULL")
    query = sql.SQL("SELECT uuid, origin, revision, changed_by, {p}, {v} FROM {t} WHERE uuid = ANY(%s) "
                    "ORDER BY uuid").format(p=parent, v=ident_list(e.values), t=sql.Identifier(e.table))
    return [_HubRow(str(r[0]), str(r[1]), int(r[2]), r[3], r[4], tuple(r[5:]))
            for r in conn.execute(query, (list(uuids),))]


def _audit_entity(e: Entity, row_id: int, values: Sequence[Any]) -> tuple[str, Any]:
    """How the chair's audit log names the row (accounts by user name, as console.people.admin does)."""
    if e.name == "account":
        return "user", values[e.values.index("username")]
    return e.name, row_id


def _insert_row(db: sqlite_utils.Database, e: Entity, h: _HubRow, origin: str, audit: AuditHook,
                result: PullResult) -> None:
    columns, params = ["uuid"], [h.uuid]  # type: list[str], list[Any]
    if e.parent is not None:
        parent_id = _id_of(db, e.parent[1], h.parent_uuid)
        if parent_id is None:
            result.held_back.append(HeldBack(e.chair_table, h.uuid, f"its {e.parent[1][:-1]} is not on this "
                                             "chair (held back itself, or not pulled yet)"))
            return
        columns.append(e.parent[0])
        params.append(parent_id)
    columns += e.values
    params += h.values
    try:
        with db.atomic():
            cur = db.execute(f"INSERT INTO {e.chair_table} ({', '.join(columns)}) "
                             f"VALUES ({', '.join('?' * len(columns))})", params)
            row_id = int(cur.lastrowid or 0)
            if h.origin != origin:
                _mark_pulled(db, e.chair_table, row_id, h.origin, h.uuid)
            _book(db, e, h.uuid, h.revision, values_hash(h.values))
            entity, entity_id = _audit_entity(e, row_id, h.values)
            audit(db, PULL_ACTOR, f"hub_pull_{e.name}", entity, entity_id, None,
                  dict(zip(e.values, h.values, strict=True)))
    except sqlite3.IntegrityError as exc:
        result.held_back.append(HeldBack(e.chair_table, h.uuid, _why_not(e, h, exc)))
        return
    _count(result.inserted, e.chair_table)


def _why_not(e: Entity, h: _HubRow, exc: sqlite3.IntegrityError) -> str:
    if e.label is not None and e.label in str(exc):
        label = h.values[e.values.index(e.label)]
        word = "clinic id" if e.label == "clinic_id" else "user name"
        return (f"the {word} {label} is another {e.name}'s on this chair; neither is changed, both are "
                "kept (hub conflicts lists it once both chairs have pushed)")
    if e.name == "course" and "courses.patient_id" in str(exc):
        return "its patient has another open course on this chair; both are kept at the hub"
    return f"this chair refused it ({exc})"


def _update_row(db: sqlite_utils.Database, e: Entity, h: _HubRow, expect: str, lost: bool, audit: AuditHook,
                result: PullResult) -> None:
    current = _local_rows(db, e, [h.uuid]).get(h.uuid)
    if current is None or values_hash(current.values) != expect:
        return  # edited on the chair since it was judged: the next pull judges it again
    try:
        with db.atomic():
            db.execute(f"UPDATE {e.chair_table} SET {', '.join(f'{c} = ?' for c in e.values)} WHERE id = ?",
                       [*h.values, current.local_id])
            _book(db, e, h.uuid, h.revision, values_hash(h.values))
            entity, entity_id = _audit_entity(e, current.local_id, h.values)
            action = f"hub_conflict_lost_{e.name}" if lost else f"hub_update_{e.name}"
            audit(db, PULL_ACTOR, action, entity, entity_id, dict(zip(e.values, current.values, strict=True)),
                  dict(zip(e.values, h.values, strict=True)))
    except sqlite3.IntegrityError as exc:
        result.held_back.append(HeldBack(e.chair_table, h.uuid, _why_not(e, h, exc)))
        return
    _count(result.updated, e.chair_table)
    if lost:
        result.lost.append(h.uuid)


def _judge(conn: psycopg.Connection, e: Entity, h: _HubRow, local: ChairRow | None, origin: str,
           book: Base | None, agreed: Base | None, result: PullResult) -> tuple[str, _HubRow, str]:
    """What to do with one hub row on the chair: ('insert'|'book'|'update'|'lost', hub row, the chair
    values' hash the action expects). A local edit the hub has not judged is judged now."""
    hub_hash = values_hash(h.values)
    if local is None:
        return "insert", h, ""
    digest = values_hash(local.values)
    if digest == hub_hash:
        return "book", h, digest
    base = base_of(book, agreed)
    if base is None and h.changed_by is None and h.origin == origin:
        base = (h.revision, hub_hash)
    if base is not None and base[1] == digest:
        return "update", h, digest
    with conn.transaction():
        outcome = reconcile(conn, e, local, origin, book)
    fresh = _hub_rows(conn, e, [h.uuid])[0]
    if values_hash(fresh.values) == digest:
        result.taken_at_hub += outcome == "taken"
        return "book", fresh, digest
    return ("lost" if outcome == "lost" else "update"), fresh, digest


def _pull_entity(conn: psycopg.Connection, db: sqlite_utils.Database, e: Entity, origin: str,
                 audit: AuditHook, result: PullResult) -> None:
    books = chair_books(db.conn)
    revisions = conn.execute(sql.SQL("SELECT uuid, revision FROM {} ORDER BY uuid").format(
        sql.Identifier(e.table))).fetchall()
    wanted = [str(u) for u, r in revisions
              if (b := books.get((e.name, str(u)))) is None or b[0] < int(r)]
    if not wanted:
        return
    agreed = agreed_at_hub(conn, origin)
    for batch in _chunks(wanted, PULL_BATCH):
        hub_rows = _hub_rows(conn, e, batch)
        local = _local_rows(db, e, batch)
        plan = [_judge(conn, e, h, local.get(h.uuid), origin, books.get((e.name, h.uuid)),
                       agreed.get((e.name, h.uuid)), result) for h in hub_rows]
        with write_transaction(db):
            for action, h, expect in plan:
                if action == "insert":
                    _insert_row(db, e, h, origin, audit, result)
                elif action == "book":
                    current = _local_rows(db, e, [h.uuid]).get(h.uuid)
                    if current is not None and values_hash(current.values) == expect:
                        _book(db, e, h.uuid, h.revision, expect)
                else:
                    _update_row(db, e, h, expect, action == "lost", audit, result)


# --- motor thresholds, screenings, clearances -----------------------------------------------------

_MT_VALUES = names(schema.MT_COLUMNS)


def _pull_thresholds(conn: psycopg.Connection, db: sqlite_utils.Database, origin: str, audit: AuditHook,
                     result: PullResult) -> None:
    have = {str(k) for (k,) in db.execute("SELECT hub_key FROM hub_pulled "
                                          "WHERE entity = 'motor_thresholds'")}
    keys = [(str(o), int(i)) for o, i in conn.execute(
        "SELECT origin, local_id FROM motor_thresholds WHERE origin <> %s ORDER BY origin, local_id",
        (origin,)) if f"{o}/{i}" not in have]
    query = sql.SQL("SELECT m.origin, m.local_id, m.patient_uuid, {v} FROM motor_thresholds m "
                    "JOIN unnest(%s::text[], %s::bigint[]) AS k(origin, local_id) USING (origin, local_id) "
                    "ORDER BY m.origin, m.local_id").format(
        v=sql.SQL(", ").join(sql.SQL("m.{}").format(sql.Identifier(c)) for c in _MT_VALUES))
    for batch in _chunks(keys, PULL_BATCH):
        rows = conn.execute(query, ([k[0] for k in batch], [k[1] for k in batch])).fetchall()
        with write_transaction(db):
            for hub_origin, local_id, patient_uuid, *values in rows:
                key = f"{hub_origin}/{local_id}"
                patient_id = _id_of(db, "patients", patient_uuid)
                if patient_id is None:
                    result.held_back.append(HeldBack("motor_thresholds", key,
                                                     "its patient is not on this chair"))
                    continue
                cur = db.execute(f"INSERT INTO motor_thresholds (patient_id, {', '.join(_MT_VALUES)}) "
                                 f"VALUES (?, {', '.join('?' * len(_MT_VALUES))})", [patient_id, *values])
                row_id = int(cur.lastrowid or 0)
                _mark_pulled(db, "motor_thresholds", row_id, str(hub_origin), key)
                audit(db, PULL_ACTOR, "hub_pull_motor_threshold", "motor_threshold", row_id, None,
                      {"from_chair": hub_origin, **dict(zip(_MT_VALUES, values, strict=True))})
                _count(result.inserted, "motor_thresholds")


def _pull_safety(conn: psycopg.Connection, db: sqlite_utils.Database, t: schema.SafetyTable, origin: str,
                 audit: AuditHook, result: PullResult) -> None:
    have = {str(u) for (u,) in db.execute(f"SELECT uuid FROM {t.table}")}
    wanted = [str(u) for (u,) in conn.execute(sql.SQL("SELECT uuid FROM {} WHERE origin <> %s ORDER BY uuid")
                                               .format(sql.Identifier(t.table)), (origin,))
              if str(u) not in have]
    values = names(t.columns)
    hub_refs = [hub for _, _, hub in t.refs]
    query = sql.SQL("SELECT uuid, origin, {r}, {v} FROM {t} WHERE uuid = ANY(%s) ORDER BY local_id").format(
        r=ident_list(hub_refs), v=ident_list(values), t=sql.Identifier(t.table))
    columns = ["uuid", *(col for col, _, _ in t.refs), *values]
    for batch in _chunks(wanted, PULL_BATCH):
        rows = conn.execute(query, (list(batch),)).fetchall()
        with write_transaction(db):
            for uuid, hub_origin, *rest in rows:
                refs, vals = rest[:len(t.refs)], rest[len(t.refs):]
                ids = [_id_of(db, parent, ref) for (_, parent, _), ref in zip(t.refs, refs, strict=True)]
                missing = [parent for (_, parent, _), ref, i in zip(t.refs, refs, ids, strict=True)
                           if ref is not None and i is None]
                if missing:
                    result.held_back.append(HeldBack(t.table, str(uuid), f"its {missing[0][:-1]} is not on "
                                                     "this chair"))
                    continue
                with db.atomic():
                    cur = db.execute(f"INSERT INTO {t.table} ({', '.join(columns)}) "
                                     f"VALUES ({', '.join('?' * len(columns))})", [uuid, *ids, *vals])
                    row_id = int(cur.lastrowid or 0)
                    _mark_pulled(db, t.table, row_id, str(hub_origin), str(uuid))
                    audit(db, PULL_ACTOR, f"hub_pull_{t.table[:-1]}", t.table[:-1], row_id, None,
                          {"uuid": uuid, "from_chair": hub_origin})
                _count(result.inserted, t.table)


# --- the pull ------------------------------------------------------------------------------------

def _open_for_pull(sqlite_path: Path | str) -> sqlite_utils.Database:
    path = Path(sqlite_path)
    if not path.is_file():
        raise ChairDatabaseError(f"There is no chair database at {path}; give its path with --db.")
    try:
        db = connect(path)
        if "hub_pulled" in db.table_names():
            return db  # the usual case: no integrity check of a whole clinic-year at every pull
        db.close()
        return open_database(path, create=False)  # a file from before the pull: brought up to date once
    except DatabaseUnusable as exc:
        raise ChairDatabaseError(str(exc)) from exc


def pull_reference(sqlite_path: Path | str, conninfo: str, *, origin: str, audit: AuditHook) -> PullResult:
    """Take into the chair what the hub holds newer than the chair (see the module's docstring).

    ``audit`` writes the chair's audit rows (console.audit.audit). Raises :class:`HubError` when the
    hub cannot be reached or is lost midway (the batches committed before stay; the next pull goes on)
    and :class:`ChairDatabaseError` when the chair's file cannot be used.
    """
    started = time.perf_counter()
    result = PullResult(origin)
    db = _open_for_pull(sqlite_path)
    try:
        conn = connect_hub(conninfo, PULL_ADVICE)
        try:
            require_schema(conn, conninfo)
            for e in ENTITIES:
                _pull_entity(conn, db, e, origin, audit, result)
            pull_settings(conn, db, origin, audit, result)
            _pull_thresholds(conn, db, origin, audit, result)
            by_name = {t.table: t for t in schema.SAFETY_TABLES}
            for table in PULLED_SAFETY:
                _pull_safety(conn, db, by_name[table], origin, audit, result)
        except psycopg.OperationalError as exc:
            raise HubError(f"The connection to the hub at {describe(conninfo)} was lost during the pull "
                           f"({lost_reason(conn, exc)}); {PULL_ADVICE}.") from exc
        except psycopg.Error as exc:
            raise HubError(f"The hub at {describe(conninfo)} refused the pull ({_first_line(exc)}); keep "
                           "this message for whoever runs the hub.") from exc
        except sqlite3.Error as exc:
            raise ChairDatabaseError(f"The chair database {sqlite_path} could not take the pull ({exc}); "
                                     "what was taken before stays.") from exc
        finally:
            conn.close()
    finally:
        db.close()
    result.seconds = time.perf_counter() - started
    return result


# --- the conflicts, for an admin ------------------------------------------------------------------

@dataclass(frozen=True)
class Conflict:
    """One thing the hub did not take as a chair sent it (db.hub.schema_pull: ``conflicts``)."""

    id: int
    at: str
    entity: str
    kind: str
    uuid: str
    losing_origin: str
    losing_chair: str | None
    other_uuid: str | None
    loser: dict[str, Any] | None
    winner: dict[str, Any] | None


def list_conflicts(conninfo: str, *, limit: int = 200) -> list[Conflict]:
    """The hub's conflicts, newest first (at most ``limit``)."""
    conn = connect_hub(conninfo, "check the address, that the server runs and that this computer may "
                                 "connect to it")
    try:
        require_schema(conn, conninfo)
        rows = conn.execute(
            "SELECT c.id, to_char(c.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
            "c.entity, c.kind, c.uuid, c.losing_origin, ch.name, c.other_uuid, c.loser_values, "
            "c.winner_values "
            "FROM conflicts c LEFT JOIN chairs ch ON ch.origin = c.losing_origin "
            "ORDER BY c.id DESC LIMIT %s", (limit,)).fetchall()
    except psycopg.OperationalError as exc:
        raise HubError(f"The connection to the hub at {describe(conninfo)} was lost "
                       f"({_first_line(exc)}).") from exc
    finally:
        conn.close()
    return [Conflict(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), r[6], r[7], r[8], r[9])
            for r in rows]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
