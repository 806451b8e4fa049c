"""Clinic settings through the hub (issue 18): the clinic's reach every chair, a chair's own never leave it.

A setting is the CLINIC's (it travels) unless ``resources/settings_defaults.json`` marks it
``"per_chair": true`` or it is one of :data:`ALWAYS_PER_CHAIR` (this computer's hub address, its name,
its site, its stimulator's unlock code, the demo mark, its tracker's pose age): those never leave the
chair, even from a clinic's own copy of the file that lacks the mark. db/ does not import the console,
so the file is read here through ``resources`` (plain data).

The same rule as patients (db.hub.reference): the hub's ``clinic_settings`` row has a revision; a
chair's value is judged against the revision and value hash it last agreed (the chair's
``hub_reference`` rows of entity 'setting', the hub's ``reference_agreed``). The hub takes an edit
made on a chair when it has not moved on meanwhile; otherwise it keeps its value and the chair's is
kept in ``conflicts`` (entity 'setting', the key in ``uuid``). A setting never set on a chair (its
default) is never sent. A pull sets a newer hub value on the chair with an audit row (actor 'hub'),
after judging any edit of the chair's the hub has not seen: a local edit is never overwritten unseen.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlite_utils

from db.database import utc_now, write_transaction
from db.hub.reference import Base, Entity, _agree, _conflict, agreed_at_hub, base_of, chair_books, values_hash
from resources import load_json

AuditHook = Callable[..., Any]
"""console.audit.audit, as db.hub.pull passes it (named there, not imported: pull imports this module)."""
PullResult = Any
"""db.hub.pull.PullResult: its ``inserted``, ``updated`` and ``lost`` are counted here."""

SETTINGS = Entity("setting", "clinic_settings", "settings", ("value",))
"""Only its name ('setting') and table are used: the bookkeeping and conflicts rows' entity."""

ALWAYS_PER_CHAIR = frozenset({"hub_url", "chair_name", "site", "magstim_unlock_code", "demo_database",
                              "tracker_pose_max_age_ms"})
"""About this computer or the devices at it: never sent, never taken, whatever the file says."""

PULL_ACTOR = "hub"


def per_chair_keys() -> frozenset[str]:
    """The settings that belong to this chair alone (the file's ``per_chair`` mark and the fixed few)."""
    specs = load_json("settings_defaults.json").get("settings", {})
    marked = {k for k, spec in specs.items() if isinstance(spec, dict) and spec.get("per_chair")}
    return ALWAYS_PER_CHAIR | marked


def clinic_keys() -> frozenset[str]:
    """The settings that travel through the hub: every known one that is not the chair's own."""
    specs = load_json("settings_defaults.json").get("settings", {})
    return frozenset(specs) - per_chair_keys()


def _digest(raw: str | None) -> str | None:
    return None if raw is None else values_hash([raw])


def _shown(raw: str | None) -> Any:
    """The value as a person reads it in a conflict or an audit row (the JSON decoded)."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _chair_values(chair: sqlite3.Connection, keys: Collection[str]) -> dict[str, str]:
    """The clinic settings this chair has set (a key never set keeps its default and is not here)."""
    rows = chair.execute("SELECT key, value FROM settings").fetchall()
    return {str(k): str(v) for k, v in rows if str(k) in keys}


def _judge_one(conn: psycopg.Connection, key: str, raw: str, origin: str, book: Base | None) -> str:
    """One chair value at the hub, inside the caller's hub transaction: 'new', 'same', 'behind',
    'taken' or 'lost' (as db.hub.reference.reconcile)."""
    digest = values_hash([raw])
    hub = conn.execute("SELECT revision, value FROM clinic_settings WHERE key = %s FOR UPDATE",
                       (key,)).fetchone()
    if hub is None:
        inserted = conn.execute("INSERT INTO clinic_settings (key, value, changed_by) VALUES (%s, %s, %s) "
                                "ON CONFLICT (key) DO NOTHING RETURNING key", (key, raw, origin)).fetchone()
        if inserted is None:  # set by a push running beside this one: judge against it
            return _judge_one(conn, key, raw, origin, book)
        _agree(conn, SETTINGS, key, origin, 1, digest)
        return "new"
    revision, hub_raw = int(hub[0]), str(hub[1])
    if values_hash([hub_raw]) == digest:
        _agree(conn, SETTINGS, key, origin, revision, digest)
        return "same"
    agreed = conn.execute("SELECT revision, values_hash FROM reference_agreed "
                          "WHERE origin = %s AND entity = %s AND uuid = %s",
                          (origin, SETTINGS.name, key)).fetchone()
    base = base_of(book, (int(agreed[0]), str(agreed[1])) if agreed else None)
    if base is not None and base[1] == digest:
        return "behind"
    if base is not None and base[0] == revision:
        conn.execute("UPDATE clinic_settings SET value = %s, revision = revision + 1, changed_by = %s, "
                     "changed_at = now() WHERE key = %s", (raw, origin, key))
        _agree(conn, SETTINGS, key, origin, revision + 1, digest)
        return "taken"
    _conflict(conn, SETTINGS, key, "edit", origin, loser={"value": _shown(raw)},
              winner={"value": _shown(hub_raw)}, loser_hash=digest,
              base=None if base is None else base[0], hub_revision=revision)
    return "lost"


def push_settings(conn: psycopg.Connection, chair: sqlite3.Connection, origin: str,
                  books: dict[tuple[str, str], Base] | None = None,
                  keys: Collection[str] | None = None) -> dict[str, int]:
    """Send the clinic settings this chair has set, in one hub transaction; the chair is only read.

    Returns how many of each outcome ('new', 'same', 'behind', 'taken', 'lost')."""
    keys = clinic_keys() if keys is None else keys
    books = chair_books(chair) if books is None else books
    outcomes: dict[str, int] = {}
    values = _chair_values(chair, keys)
    with conn.transaction():
        for key in sorted(values):  # one order for every chair: no deadlock between two pushes
            outcome = _judge_one(conn, key, values[key], origin, books.get((SETTINGS.name, key)))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@dataclass(frozen=True)
class _Plan:
    key: str
    action: str  # 'book' | 'update' | 'lost' | 'skip'
    revision: int
    hub_raw: str
    expect: str | None  # the chair's value hash the action expects (None: not set on the chair)


def _plan(conn: psycopg.Connection, key: str, revision: int, hub_raw: str, local: str | None, origin: str,
          book: Base | None, agreed: Base | None, result: PullResult) -> _Plan:
    digest = _digest(local)
    if local is None:
        return _Plan(key, "update", revision, hub_raw, None)
    if digest == values_hash([hub_raw]):
        return _Plan(key, "book", revision, hub_raw, digest)
    base = base_of(book, agreed)
    if base is not None and base[1] == digest:
        return _Plan(key, "update", revision, hub_raw, digest)
    with conn.transaction():  # an edit of this chair's the hub has not judged: judged first
        outcome = _judge_one(conn, key, local, origin, book)
    fresh = conn.execute("SELECT revision, value FROM clinic_settings WHERE key = %s", (key,)).fetchone()
    if fresh is None:  # the hub never deletes a setting; nothing to take if it somehow has none
        return _Plan(key, "skip", revision, hub_raw, digest)
    revision, hub_raw = int(fresh[0]), str(fresh[1])
    if values_hash([hub_raw]) == digest:
        result.taken_at_hub += outcome == "taken"
        return _Plan(key, "book", revision, hub_raw, digest)
    return _Plan(key, "lost" if outcome == "lost" else "update", revision, hub_raw, digest)


def _book(db: sqlite_utils.Database, key: str, revision: int, digest: str) -> None:
    db.execute("INSERT OR REPLACE INTO hub_reference (entity, uuid, revision, values_hash) "
               "VALUES (?, ?, ?, ?)",
               [SETTINGS.name, key, revision, digest])


def pull_settings(conn: psycopg.Connection, db: sqlite_utils.Database, origin: str, audit: AuditHook,
                  result: PullResult, keys: Collection[str] | None = None) -> None:
    """Set on the chair the clinic settings newer at the hub, in one short chair write transaction."""
    keys = clinic_keys() if keys is None else keys
    books = chair_books(db.conn)
    hub = [(str(k), int(r), str(v)) for k, r, v in
           conn.execute("SELECT key, revision, value FROM clinic_settings ORDER BY key")]
    wanted = [(k, r, v) for k, r, v in hub if k in keys
              and ((b := books.get((SETTINGS.name, k))) is None or b[0] < r)]
    if not wanted:
        return
    agreed = agreed_at_hub(conn, origin)
    local = _chair_values(db.conn, keys)
    plans = [_plan(conn, k, r, v, local.get(k), origin, books.get((SETTINGS.name, k)),
                   agreed.get((SETTINGS.name, k)), result) for k, r, v in wanted]
    with write_transaction(db):
        now = _chair_values(db.conn, keys)
        for p in plans:
            current = now.get(p.key)
            if p.action == "skip" or _digest(current) != p.expect:
                continue  # changed on the chair since it was judged: the next pull judges it again
            new_digest = values_hash([p.hub_raw])
            if p.action != "book":
                db.execute("INSERT INTO settings (key, value, changed_at, changed_by) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                           "changed_at = excluded.changed_at, changed_by = excluded.changed_by",
                           [p.key, p.hub_raw, utc_now(), PULL_ACTOR])
                action = "hub_conflict_lost_setting" if p.action == "lost" else "hub_update_setting"
                audit(db, PULL_ACTOR, action, "setting", p.key, {"value": _shown(current)},
                      {"value": _shown(p.hub_raw)})
                result.updated["settings"] = result.updated.get("settings", 0) + 1
                if p.action == "lost":
                    result.lost.append(p.key)
            _book(db, p.key, p.revision, new_digest)
