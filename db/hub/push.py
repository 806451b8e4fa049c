"""Pushing a chair's ended sessions to the hub: :func:`push_ended_sessions`.

Which sessions the hub lacks is asked of the hub (``SELECT uuid ...``), so the
chair keeps no bookkeeping that could drift from the truth. Each session goes
in one hub transaction with everything it refers to (its patient, course and
the patient's motor thresholds, upserted) and every row of its own (pulses and
poses through COPY into a temporary table then ``INSERT ... ON CONFLICT DO
NOTHING``; events, addenda, signatures): a push cut in the middle leaves the
hub without that session, never half of it, and the next push sends it whole.
Delivering a session twice changes nothing.

Rows a chair adds to a session after it reached the hub (a side effect entered
after the run, a supervisor's signature, an addendum) are sent by the next
push: the hub's highest event, addendum and signature id per session is
compared with the chair's. The chair's audit rows follow, in order, after the
highest id the hub holds for this chair, so each chair's chain stays whole.

The clinical safety records (screenings, outcomes, overrides, ...; see
:data:`db.hub.schema.SAFETY_TABLES`) go at every push whether or not a session
goes with them: the hub is asked which of this chair's rows it holds, and the
rest go table by table, a batch per hub transaction, with the patients and
courses they name.

Patients, courses and accounts made or edited on the chair go first, at every push, under the hub's
rule for mutable reference data (db.hub.reference: the hub decides, a losing edit is kept in
``conflicts``). Rows that came to this chair from another one through the hub (db.hub.pull; the
chair's ``hub_pulled``) are never pushed as this chair's.

The chair's file is read through a read-only connection, one short read
transaction per session: a push never takes the chair's write lock, and a
recording going on meanwhile is not held up (WAL readers never block the writer).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from db.hub import schema
from db.hub.link import KEEPALIVE, WatchedConnection, lost_reason
from db.hub.reference import (
    ENTITIES,
    Base,
    agreed_at_hub,
    base_of,
    chair_books,
    chair_pulled,
    chair_row,
    chair_select,
    reconcile,
    send_reference,
    upsert,
    values_hash,
)
from db.hub.reference import ident_list as _ident_list
from db.hub.schema import SAFETY_TABLES, Column, names
from db.hub.settings_sync import push_settings

CONNECT_TIMEOUT_S = 10
"""How long a push waits for the hub to answer before saying it cannot be reached."""

Row = tuple[Any, ...]


class HubError(Exception):
    """The hub cannot be used now (unreachable, not initialised, refused); one sentence for a technician."""


class ChairDatabaseError(Exception):
    """The chair's own database cannot be read; the message names the file."""


@dataclass
class PushResult:
    """What one push did. ``pushed``: the uuids of the sessions sent whole this time.

    ``held_for_another_chair``: sessions whose uuid the hub already holds from another chair (a copy
    of this chair's file pushed under another id, most likely); the hub keeps the first and this
    push changes nothing of it, but a person should know.
    """

    origin: str
    pushed: list[str] = field(default_factory=list)
    already_at_hub: int = 0
    held_for_another_chair: list[str] = field(default_factory=list)
    still_recording: int = 0
    pulses: int = 0
    late_rows: int = 0
    audit_rows: int = 0
    safety_rows: dict[str, int] = field(default_factory=dict)
    """Rows of each clinical safety table sent this time (screenings, outcomes, ...)."""
    thresholds: int = 0
    """Motor thresholds sent by themselves (not with a session of their patient)."""
    reference: dict[str, int] = field(default_factory=dict)
    """Patients, courses and accounts made or edited here, by what the hub did with them: 'new',
    'taken' (an edit), 'lost' (another chair's edit came first: kept in the hub's conflicts), 'same',
    'behind' (the hub's are newer; the next pull brings them)."""
    seconds: float = 0.0


@dataclass(frozen=True)
class HubStatus:
    origin: str
    at_hub: int
    waiting: int
    still_recording: int
    last_push_at: str | None
    """When this chair last pushed (the hub's clock, ISO-8601 UTC), None if never."""
    held_for_another_chair: int = 0
    """Of those waiting, how many the hub holds from another chair id (they will never go as this one's)."""
    safety_waiting: int = 0
    """Clinical safety rows (screenings, outcomes, ...) the next push would send."""
    clock_offset_s: float | None = None
    """The hub's clock minus this chair's at its last push, in seconds (None: never pushed)."""


def describe(conninfo: str) -> str:
    """The hub as a person knows it (host, port, database), never its password."""
    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "the hub (its address cannot be read)"
    host = parts.get("host") or "localhost"
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or parts.get('user') or ''}"


PUSH_ADVICE = "the chair keeps recording, and the next push sends what waits"


def connect_hub(conninfo: str, advice: str = PUSH_ADVICE) -> psycopg.Connection:
    """An autocommit connection to the hub, or :class:`HubError` in one sentence ending in ``advice``."""
    try:
        return WatchedConnection.connect(conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                         application_name="tms-console hub", **KEEPALIVE)
    except psycopg.ProgrammingError as exc:
        raise HubError(f"The hub address {conninfo!r} cannot be read ({exc}); "
                       "give it as postgresql://user@host:port/database.") from exc
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HubError(f"The hub at {describe(conninfo)} cannot be reached ({first}); {advice}.") from exc


def require_schema(conn: psycopg.Connection, conninfo: str) -> None:
    found = schema.version(conn)
    if found == 0:
        raise HubError(f"The hub at {describe(conninfo)} is not set up yet; run `hub init` first.")
    if found < schema.SCHEMA_VERSION:
        raise HubError(f"The hub at {describe(conninfo)} has schema version {found}, this program needs "
                       f"{schema.SCHEMA_VERSION}; run `hub init` to bring it up to date.")
    if found > schema.SCHEMA_VERSION:
        raise HubError(f"The hub at {describe(conninfo)} has schema version {found}, newer than this "
                       "program knows; update the program on this chair.")


@contextmanager
def open_chair(sqlite_path: Path | str) -> Iterator[sqlite3.Connection]:
    """The chair's file, read-only (never its write lock), waiting for a writer's commit if need be."""
    path = Path(sqlite_path)
    if not path.is_file():
        raise ChairDatabaseError(f"There is no chair database at {path}; give its path with --db.")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("SELECT count(*) FROM sessions").fetchone()
    except sqlite3.Error as exc:
        raise ChairDatabaseError(f"The chair database {path} cannot be read ({exc}).") from exc
    try:
        yield conn
    finally:
        conn.close()


def chair_origin(chair: sqlite3.Connection) -> str | None:
    """The chair's own id, where the chair keeps it (table ``chair_identity``), if this file has one."""
    try:
        row = chair.execute("SELECT origin FROM chair_identity").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None


# --- reading the chair ---------------------------------------------------------------------------

def _select(columns: Sequence[Column], alias: str) -> str:
    return ", ".join(f"{alias}.{name}" for name in names(columns))


@dataclass
class _Session:
    uuid: str
    local_id: int
    patient: Row
    course: Row | None
    thresholds: list[Row]
    row: Row
    pulses: list[Row]
    poses: list[Row]
    children: dict[str, list[Row]]
    """Its events, addenda and signatures, by kind (the keys of ``_CHILD_SQL``), in that order."""


def _read_session(chair: sqlite3.Connection, session_id: int) -> _Session:
    """One ended session and what it refers to, from one consistent snapshot of the chair's file."""
    chair.execute("BEGIN")
    try:
        s = chair.execute(
            "SELECT s.uuid, s.id, p.uuid, c.uuid, s.patient_id, s.course_id, "
            f"{_select(schema.SESSION_COLUMNS, 's')} "
            "FROM sessions s JOIN patients p ON p.id = s.patient_id "
            "LEFT JOIN courses c ON c.id = s.course_id WHERE s.id = ?", (session_id,)).fetchone()
        uuid, local_id, patient_uuid, course_uuid, patient_id, course_id = s[:6]
        patient = chair.execute(
            f"SELECT uuid, id, {_select(schema.PATIENT_COLUMNS, 'p')} FROM patients p WHERE id = ?",
            (patient_id,)).fetchone()
        course = None
        if course_id is not None:
            course = chair.execute(
                f"SELECT c.uuid, c.id, p.uuid, {_select(schema.COURSE_COLUMNS, 'c')} FROM courses c "
                "JOIN patients p ON p.id = c.patient_id WHERE c.id = ?", (course_id,)).fetchone()
        thresholds = chair.execute(
            f"SELECT m.id, ?, {_select(schema.MT_COLUMNS, 'm')} FROM motor_thresholds m "
            "WHERE m.patient_id = ? ORDER BY m.id", (patient_uuid, patient_id)).fetchall()
        pulses = chair.execute(
            f"SELECT ?, {_select(schema.PULSE_COLUMNS, 'x')} FROM pulses x "
            "WHERE session_id = ? ORDER BY count",
            (uuid, session_id)).fetchall()
        poses = chair.execute(
            f"SELECT ?, {_select(schema.POSE_COLUMNS, 'x')} FROM poses x WHERE session_id = ? ORDER BY idx",
            (uuid, session_id)).fetchall()
        children = {kind: _late_rows(chair, kind, session_id, uuid, 0) for kind in _CHILD_SQL}
    finally:
        chair.execute("COMMIT")
    return _Session(uuid, local_id, patient, course, thresholds,
                    (uuid, local_id, patient_uuid, course_uuid, *s[6:]),
                    pulses, poses, children)


_CHILD_SQL = {
    # kind: (chair SELECT after "SELECT <session uuid>, ", hub table, hub key column, hub columns)
    "events": (f"x.id, {_select(schema.EVENT_COLUMNS, 'x')} FROM session_events x",
               "session_events", "event_id", ["event_id", *names(schema.EVENT_COLUMNS)]),
    "addenda": (f"x.id, {_select(schema.ADDENDUM_COLUMNS, 'x')} FROM addenda x",
                "addenda", "addendum_id", ["addendum_id", *names(schema.ADDENDUM_COLUMNS)]),
    "signatures": (f"x.id, u.uuid, x.hub_signoff_uuid, {_select(schema.SIGNATURE_COLUMNS, 'x')} "
                   "FROM signatures x LEFT JOIN users u ON u.id = x.user_id",
                   "signatures", "signature_id",
                   ["signature_id", "user_uuid", "hub_signoff_uuid", *names(schema.SIGNATURE_COLUMNS)]),
}
_CHAIR_TABLE = {"events": "session_events", "addenda": "addenda", "signatures": "signatures"}


def _late_rows(chair: sqlite3.Connection, kind: str, session_id: int, uuid: str, after: int) -> list[Row]:
    select = _CHILD_SQL[kind][0]
    return chair.execute(f"SELECT ?, {select} WHERE x.session_id = ? AND x.id > ? ORDER BY x.id",
                         (uuid, session_id, after)).fetchall()


# --- writing the hub -----------------------------------------------------------------------------

def _insert(table: str, columns: Sequence[str], conflict: Sequence[str]) -> sql.Composed:
    return sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING").format(
        sql.Identifier(table), _ident_list(columns), sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        _ident_list(conflict))


_MT = ["local_id", "patient_uuid", *names(schema.MT_COLUMNS), "origin"]
_SESSION = ["uuid", "local_id", "patient_uuid", "course_uuid", *names(schema.SESSION_COLUMNS), "origin"]
_PULSE = ["session_uuid", *names(schema.PULSE_COLUMNS), "origin"]
_POSE = ["session_uuid", *names(schema.POSE_COLUMNS), "origin"]
_STAGING = {"pulses": ("hub_pulses_in", _PULSE, ["session_uuid", "count"]),
            "poses": ("hub_poses_in", _POSE, ["session_uuid", "idx"])}


def _prepare(conn: psycopg.Connection) -> None:
    """The temporary tables COPY fills, emptied at every commit (one per connection)."""
    with conn.transaction():
        for table, (staging, _, _) in _STAGING.items():
            conn.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DELETE ROWS").format(
                sql.Identifier(staging), sql.Identifier(table)))


def _copy_in(conn: psycopg.Connection, table: str, rows: list[Row], origin: str) -> int:
    """COPY ``rows`` into the staging table, then into ``table``; returns the rows new at the hub."""
    if not rows:
        return 0
    staging, columns, key = _STAGING[table]
    with conn.cursor() as cur:
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(staging), _ident_list(columns))) as copy:
            for row in rows:
                copy.write_row((*row, origin))
        cur.execute(sql.SQL("INSERT INTO {t} ({c}) SELECT {c} FROM {s} ON CONFLICT ({k}) DO NOTHING").format(
            t=sql.Identifier(table), c=_ident_list(columns), s=sql.Identifier(staging), k=_ident_list(key)))
        return max(cur.rowcount, 0)


def _insert_children(conn: psycopg.Connection, kind: str, rows: list[Row], origin: str) -> int:
    if not rows:
        return 0
    _, table, key, columns = _CHILD_SQL[kind]
    with conn.cursor() as cur:
        cur.executemany(_insert(table, ["session_uuid", *columns, "origin"], ["session_uuid", key]),
                        [(*row, origin) for row in rows])
        return max(cur.rowcount, 0)


def _send_session(conn: psycopg.Connection, s: _Session, origin: str,
                  books: dict[tuple[str, str], Base]) -> bool:
    """The session whole, in one transaction; False when the hub had it already (nothing changed)."""
    with conn.transaction():
        send_reference(conn, [s.patient], [s.course] if s.course is not None else [], origin, books)
        if s.thresholds:
            with conn.cursor() as cur:
                cur.executemany(upsert("motor_thresholds", _MT, ["origin", "local_id"], []),
                                [(*row, origin) for row in s.thresholds])
        inserted = conn.execute(
            _insert("sessions", _SESSION, ["uuid"]) + sql.SQL(" RETURNING uuid"), (*s.row, origin)).fetchone()
        if inserted is None:
            return False  # delivered before (or by a push running beside this one)
        _copy_in(conn, "pulses", s.pulses, origin)
        _copy_in(conn, "poses", s.poses, origin)
        for kind, rows in s.children.items():
            _insert_children(conn, kind, rows, origin)
    return True


def _hub_maxima(conn: psycopg.Connection, origin: str) -> dict[str, dict[str, int]]:
    """Per kind of late row, the highest chair id the hub holds for each of this chair's sessions."""
    maxima: dict[str, dict[str, int]] = {}
    for kind, (_, table, key, _) in _CHILD_SQL.items():
        query = sql.SQL("SELECT session_uuid, max({k}) FROM {t} WHERE origin = %s GROUP BY session_uuid")
        rows = conn.execute(query.format(k=sql.Identifier(key), t=sql.Identifier(table)),
                            (origin,)).fetchall()
        maxima[kind] = {str(u): int(m) for u, m in rows}
    return maxima


def _send_late_rows(conn: psycopg.Connection, chair: sqlite3.Connection, at_hub: set[str],
                    origin: str) -> int:
    """Events, addenda and signatures added on the chair to sessions the hub already holds.

    Read from one snapshot of the chair, events first and signatures last: an event the chair
    took before a sign-off always reaches the hub before that sign-off (the hub, like the
    chair, refuses events on a signed session).
    """
    maxima = _hub_maxima(conn, origin)
    sent = 0
    chair.execute("BEGIN")
    try:
        for kind in _CHILD_SQL:
            table = _CHAIR_TABLE[kind]
            chair_max = chair.execute(
                f"SELECT s.uuid, s.id, max(x.id) FROM {table} x JOIN sessions s ON s.id = x.session_id "
                "WHERE s.status != 'recording' GROUP BY s.id").fetchall()
            for uuid, session_id, highest in chair_max:
                after = maxima[kind].get(uuid, 0)
                if uuid not in at_hub or highest <= after:
                    continue
                rows = _late_rows(chair, kind, session_id, uuid, after)
                with conn.transaction():
                    sent += _insert_children(conn, kind, rows, origin)
    finally:
        chair.execute("COMMIT")
    return sent


_AUDIT = ["id", *names(schema.AUDIT_COLUMNS), "origin"]
AUDIT_BATCH = 5000


def _send_audit(conn: psycopg.Connection, chair: sqlite3.Connection, origin: str) -> int:
    """The chair's audit rows after the last one the hub holds, in order (the chain stays whole)."""
    row = conn.execute("SELECT max(id) FROM audit_log WHERE origin = %s", (origin,)).fetchone()
    after = int(row[0]) if row and row[0] is not None else 0
    sent = 0
    while True:
        rows = chair.execute(f"SELECT id, {_select(schema.AUDIT_COLUMNS, 'a')} FROM audit_log a "
                             "WHERE id > ? ORDER BY id LIMIT ?", (after, AUDIT_BATCH)).fetchall()
        if not rows:
            return sent
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(_insert("audit_log", _AUDIT, ["origin", "id"]), [(*r, origin) for r in rows])
        sent += len(rows)
        after = rows[-1][0]


SAFETY_BATCH = 1000
"""Chair rows of one safety table per hub transaction (a cut push loses at most the batch it was in)."""


def _safety_select(t: schema.SafetyTable) -> str:
    """The chair's rows of ``t`` in the hub's column order (``_safety_columns``), parents by uuid."""
    joins = " ".join(f"LEFT JOIN {parent} j{i} ON j{i}.id = t.{col}"
                     for i, (col, parent, _) in enumerate(t.refs))
    cols = [*(["t.uuid"] if t.has_uuid else []), "t.id",
            *(f"j{i}.uuid" for i in range(len(t.refs))), _select(t.columns, "t")]
    return f"SELECT {', '.join(cols)} FROM {t.table} t {joins}"


def _safety_columns(t: schema.SafetyTable) -> list[str]:
    return [*(["uuid"] if t.has_uuid else []), "local_id", *(hub for _, _, hub in t.refs),
            *names(t.columns), "origin"]


def _safety_write(t: schema.SafetyTable) -> sql.Composed:
    columns = _safety_columns(t)
    key = ["uuid"] if t.has_uuid else ["origin", "local_id"]
    if t.linkable is None:
        return _insert(t.table, columns, key)
    link = sql.Identifier(t.linkable)
    return sql.SQL("INSERT INTO {t} ({c}) VALUES ({v}) ON CONFLICT ({k}) DO UPDATE SET {l} = EXCLUDED.{l} "
                   "WHERE {t}.{l} IS NULL AND EXCLUDED.{l} IS NOT NULL").format(
        t=sql.Identifier(t.table), c=_ident_list(columns),
        v=sql.SQL(", ").join(sql.Placeholder() * len(columns)), k=_ident_list(key), l=link)


def _hub_safety_held(conn: psycopg.Connection, origin: str) -> dict[str, dict[int, bool]]:
    """Per safety table, the chair ids the hub holds for this chair, each with whether its link is
    still empty: one round trip for all the tables (a push with nothing waiting stays cheap)."""
    parts = [sql.SQL("SELECT {name}, local_id, {unlinked} FROM {t} WHERE origin = {o}").format(
        name=sql.Literal(t.table), t=sql.Identifier(t.table), o=sql.Literal(origin),
        unlinked=sql.SQL("{} IS NULL").format(sql.Identifier(t.linkable)) if t.linkable else sql.SQL("false"))
        for t in SAFETY_TABLES]
    held: dict[str, dict[int, bool]] = {t.table: {} for t in SAFETY_TABLES}
    if parts:
        for table, local_id, unlinked in conn.execute(sql.SQL(" UNION ALL ").join(parts)):
            held[str(table)][int(local_id)] = bool(unlinked)
    return held


def _safety_wanted(chair: sqlite3.Connection, t: schema.SafetyTable, held: dict[int, bool],
                   pulled: set[int]) -> list[int]:
    """The chair ids of ``t`` the hub lacks, or holds still unlinked while linked here; never a row
    pulled from another chair (``pulled``)."""
    wanted = [int(i) for (i,) in chair.execute(f"SELECT id FROM {t.table} ORDER BY id")
              if int(i) not in held and int(i) not in pulled]
    if t.linkable is not None:
        chair_col = next(col for col, _, hub in t.refs if hub == t.linkable)
        linked = {int(i) for (i,) in chair.execute(f"SELECT id FROM {t.table} WHERE {chair_col} IS NOT NULL")}
        wanted = sorted({*wanted, *(i for i in linked if held.get(i))})
    return wanted


def _referred(chair: sqlite3.Connection, patient_uuids: set[str],
              course_uuids: set[str]) -> tuple[list[Row], list[Row]]:
    """The patients and courses rows name, read from the chair (a course's own patient too)."""
    courses = [chair.execute(
        f"SELECT c.uuid, c.id, p.uuid, {_select(schema.COURSE_COLUMNS, 'c')} FROM courses c "
        "JOIN patients p ON p.id = c.patient_id WHERE c.uuid = ?", (u,)).fetchone()
        for u in sorted(course_uuids)]
    patient_uuids = patient_uuids | {str(c[2]) for c in courses}
    patients = [chair.execute(
        f"SELECT uuid, id, {_select(schema.PATIENT_COLUMNS, 'p')} FROM patients p WHERE uuid = ?",
        (u,)).fetchone() for u in sorted(patient_uuids)]
    return patients, courses


def _named(columns: list[str], rows: list[Row], column: str) -> set[str]:
    """The uuids ``rows`` hold in ``column`` (none when the table has no such column)."""
    if column not in columns:
        return set()
    at = columns.index(column)
    return {str(r[at]) for r in rows if r[at] is not None}


def _send_safety(conn: psycopg.Connection, chair: sqlite3.Connection, origin: str,
                 books: dict[tuple[str, str], Base], pulled: dict[str, set[int]]) -> dict[str, int]:
    """Every safety row the hub lacks, table by table, a batch per hub transaction, with the patients
    and courses they name (upserted as for a session). Returns the rows sent per table."""
    sent: dict[str, int] = {}
    held = _hub_safety_held(conn, origin)
    for t in SAFETY_TABLES:
        wanted = _safety_wanted(chair, t, held[t.table], pulled.get(t.table, set()))
        sent[t.table] = 0
        columns = _safety_columns(t)
        for start in range(0, len(wanted), SAFETY_BATCH):
            ids = wanted[start:start + SAFETY_BATCH]
            chair.execute("BEGIN")
            try:
                rows = chair.execute(f"{_safety_select(t)} WHERE t.id IN ({', '.join('?' * len(ids))}) "
                                     "ORDER BY t.id", ids).fetchall()
                patients, courses = _referred(chair, _named(columns, rows, "patient_uuid"),
                                              _named(columns, rows, "course_uuid"))
            finally:
                chair.execute("COMMIT")
            with conn.transaction():
                send_reference(conn, patients, courses, origin, books)
                with conn.cursor() as cur:
                    cur.executemany(_safety_write(t), [(*r, origin) for r in rows])
            sent[t.table] += len(rows)
    return sent


def _send_thresholds(conn: psycopg.Connection, chair: sqlite3.Connection, origin: str,
                     books: dict[tuple[str, str], Base], pulled: set[int]) -> int:
    """Motor thresholds of this chair the hub lacks, whether or not a session of the patient went
    yet (a patient measured on this chair is treated on another): a batch per hub transaction, with
    the patients they name. Never one pulled from another chair (``pulled``)."""
    held = {int(i) for (i,) in conn.execute("SELECT local_id FROM motor_thresholds WHERE origin = %s",
                                            (origin,))}
    wanted = [int(i) for (i,) in chair.execute("SELECT id FROM motor_thresholds ORDER BY id")
              if int(i) not in held and int(i) not in pulled]
    for start in range(0, len(wanted), SAFETY_BATCH):
        ids = wanted[start:start + SAFETY_BATCH]
        chair.execute("BEGIN")
        try:
            rows = chair.execute(f"SELECT m.id, p.uuid, {_select(schema.MT_COLUMNS, 'm')} "
                                 "FROM motor_thresholds m JOIN patients p ON p.id = m.patient_id "
                                 f"WHERE m.id IN ({', '.join('?' * len(ids))}) ORDER BY m.id", ids).fetchall()
            patients, _ = _referred(chair, {str(r[1]) for r in rows}, set())
        finally:
            chair.execute("COMMIT")
        with conn.transaction():
            send_reference(conn, patients, [], origin, books)
            with conn.cursor() as cur:
                cur.executemany(upsert("motor_thresholds", _MT, ["origin", "local_id"], []),
                                [(*row, origin) for row in rows])
    return len(wanted)


REFERENCE_BATCH = 200
"""Patients, courses or accounts judged per hub transaction."""


def push_reference(conn: psycopg.Connection, chair: sqlite3.Connection, origin: str,
                   books: dict[tuple[str, str], Base]) -> dict[str, int]:
    """Every account, patient and course made or edited on this chair since it last agreed with the
    hub, judged by :func:`db.hub.reference.reconcile`; returns how many of each outcome.

    A row whose values still hash to what the chair last agreed (at its pull, or when the hub took it
    from this chair) is not sent: a push with nothing edited costs one query of the hub.
    """
    agreed = agreed_at_hub(conn, origin)
    outcomes: dict[str, int] = {}
    for e in ENTITIES:
        chair.execute("BEGIN")
        try:
            rows = [chair_row(r) for r in chair.execute(f"{chair_select(e)} ORDER BY t.id")]
        finally:
            chair.execute("COMMIT")
        waiting = []  # in uuid order: pushes from two chairs lock shared rows in one order, never a deadlock
        for row in sorted(rows, key=lambda r: r.uuid):
            base = base_of(books.get((e.name, row.uuid)), agreed.get((e.name, row.uuid)))
            if base is None or base[1] != values_hash(row.values):
                waiting.append(row)
        for start in range(0, len(waiting), REFERENCE_BATCH):
            with conn.transaction():
                for row in waiting[start:start + REFERENCE_BATCH]:
                    outcome = reconcile(conn, e, row, origin, books.get((e.name, row.uuid)))
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def hub_session_uuids(conn: psycopg.Connection, origin: str) -> set[str]:
    """Which of this chair's sessions the hub holds: asked of the hub, the one source of truth."""
    return {str(r[0]) for r in conn.execute("SELECT uuid FROM sessions WHERE origin = %s", (origin,))}


def _holder(conn: psycopg.Connection, uuid: str) -> str | None:
    row = conn.execute("SELECT origin FROM sessions WHERE uuid = %s", (uuid,)).fetchone()
    return str(row[0]) if row else None


def _chair_sessions(chair: sqlite3.Connection) -> tuple[list[tuple[int, str]], int]:
    ended = [(int(i), str(u)) for i, u in chair.execute(
        "SELECT id, uuid FROM sessions WHERE status != 'recording' ORDER BY id")]
    recording = chair.execute("SELECT count(*) FROM sessions WHERE status = 'recording'").fetchone()[0]
    return ended, int(recording)


def _chair_setting(chair: sqlite3.Connection, key: str) -> str | None:
    """A clinic setting of this chair as text (settings hold JSON values), None when unset or empty."""
    try:
        row = chair.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:
        return None
    if row is None or row[0] is None:
        return None
    try:
        value = json.loads(row[0])
    except ValueError:
        value = row[0]
    text = str(value).strip() if value is not None else ""
    return text or None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _mark_chair(conn: psycopg.Connection, chair: sqlite3.Connection, origin: str,
                chair_now: datetime) -> None:
    """The chair's name, site and clock, as of this push (what review stations show and filter by)."""
    conn.execute(
        "INSERT INTO chairs (origin, name, site, clock_offset_s) "
        "VALUES (%(o)s, %(n)s, %(s)s, extract(epoch FROM now() - %(t)s)) "
        "ON CONFLICT (origin) DO UPDATE SET last_push_at = now(), name = EXCLUDED.name, "
        "site = EXCLUDED.site, clock_offset_s = EXCLUDED.clock_offset_s",
        {"o": origin, "n": _chair_setting(chair, "chair_name"), "s": _chair_setting(chair, "site"),
         "t": chair_now})


def push_ended_sessions(sqlite_path: Path | str, conninfo: str, *, origin: str,
                        clock: Callable[[], datetime] | None = None) -> PushResult:
    """Send every ended session the hub lacks (whole, one transaction each), then late rows and audit rows.

    Raises :class:`HubError` when the hub cannot be reached or is cut off
    mid-push (the sessions committed before stay; the next push sends the
    rest) and :class:`ChairDatabaseError` when the chair's file cannot be read. ``clock``: the chair's
    clock (tests give one hours off); nothing pushed depends on it, the hub only notes how far off it is.
    """
    started = time.perf_counter()
    result = PushResult(origin)
    with open_chair(sqlite_path) as chair:
        conn = connect_hub(conninfo)
        try:
            try:
                require_schema(conn, conninfo)
                _prepare(conn)
                _mark_chair(conn, chair, origin, (clock or _utc_now)())
                books, pulled = chair_books(chair), chair_pulled(chair)
                result.reference = push_reference(conn, chair, origin, books)
                push_settings(conn, chair, origin, books)  # the clinic's settings, never the chair's own
                at_hub = hub_session_uuids(conn, origin)
                ended, result.still_recording = _chair_sessions(chair)
                result.already_at_hub = sum(1 for _, u in ended if u in at_hub)
                for session_id, uuid in ended:
                    if uuid in at_hub:
                        continue
                    session = _read_session(chair, session_id)
                    # a motor threshold pulled from another chair is that chair's, never this one's
                    session.thresholds = [t for t in session.thresholds
                                          if int(t[0]) not in pulled.get("motor_thresholds", set())]
                    if _send_session(conn, session, origin, books):
                        result.pushed.append(uuid)
                        result.pulses += len(session.pulses)
                    elif _holder(conn, uuid) != origin:
                        result.held_for_another_chair.append(uuid)
                        continue  # the hub keeps that chair's copy; nothing of it goes as this one's
                    at_hub.add(uuid)
                result.late_rows = _send_late_rows(conn, chair, at_hub, origin)
                result.safety_rows = _send_safety(conn, chair, origin, books, pulled)
                result.thresholds = _send_thresholds(conn, chair, origin, books,
                                                     pulled.get("motor_thresholds", set()))
                result.audit_rows = _send_audit(conn, chair, origin)
            except psycopg.OperationalError as exc:
                raise HubError(f"The connection to the hub at {describe(conninfo)} was lost after "
                               f"{len(result.pushed)} session(s) ({lost_reason(conn, exc)}); the next push "
                               "sends the rest.") from exc
            except psycopg.Error as exc:
                raise HubError(f"The hub at {describe(conninfo)} refused the push after "
                               f"{len(result.pushed)} session(s) ({_first_line(exc)}); the sessions "
                               "before stay, keep this message for whoever runs the hub.") from exc
            except sqlite3.Error as exc:
                raise ChairDatabaseError(f"The chair database {sqlite_path} could not be read "
                                         f"({exc}).") from exc
        finally:
            conn.close()
    result.seconds = time.perf_counter() - started
    return result


def hub_status(sqlite_path: Path | str, conninfo: str, *, origin: str) -> HubStatus:
    """How many of this chair's ended sessions the hub holds and how many wait to be pushed."""
    with open_chair(sqlite_path) as chair:
        ended, recording = _chair_sessions(chair)
        conn = connect_hub(conninfo)
        try:
            try:
                require_schema(conn, conninfo)
                at_hub = hub_session_uuids(conn, origin)
                waiting = [u for _, u in ended if u not in at_hub]
                elsewhere = conn.execute("SELECT count(*) FROM sessions WHERE uuid = ANY(%s)",
                                         (waiting,)).fetchone()
                held, pulled = _hub_safety_held(conn, origin), chair_pulled(chair)
                safety_waiting = sum(len(_safety_wanted(chair, t, held[t.table], pulled.get(t.table, set())))
                                     for t in SAFETY_TABLES)
                last = conn.execute("SELECT to_char(last_push_at AT TIME ZONE 'UTC', "
                                    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), clock_offset_s FROM chairs "
                                    "WHERE origin = %s", (origin,)).fetchone()
            except psycopg.OperationalError as exc:
                raise HubError(f"The connection to the hub at {describe(conninfo)} was lost "
                               f"({_first_line(exc)}).") from exc
        finally:
            conn.close()
    return HubStatus(origin, len(ended) - len(waiting), len(waiting), recording,
                     str(last[0]) if last else None, int(elsewhere[0]) if elsewhere else 0,
                     safety_waiting, float(last[1]) if last and last[1] is not None else None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
