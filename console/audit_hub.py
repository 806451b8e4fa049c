"""``audit verify --hub``: every chair's audit chain as the clinic hub holds it.

Each chair pushes its audit rows in order (db.hub.push), keyed at the hub by the chair's id
(``origin``) and the row's id on that chair, so the hub holds one chain per chair, each to be
walked exactly as the chair's own (console.audit.check_rows): a row changed, removed or inserted
at the hub breaks the chain of that chair at that row.

With the chair's file at hand too, the hub's copy of that chair's chain is also compared with the
chair's own: the same hash at the hub's last row means the hub holds the chair's history, not
another one (a chair restored from an old backup and pushing again would differ).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import sqlite_utils

from console.audit import VerifyResult, check_rows

_COLUMNS = "id, at, actor, action, entity, entity_id, old_values, new_values, prev_hash, hash"


@dataclass(frozen=True)
class ChairChain:
    """One chair's chain at the hub: its id, its name where the hub knows it, and the walk's result."""

    origin: str
    name: str | None
    result: VerifyResult


def verify_hub(conn: psycopg.Connection) -> list[ChairChain]:
    """Walk each chair's chain at the hub, chairs in the order of their ids.

    The hub has no sequence of a chair's rows beside the rows themselves, so a row removed from
    the end of a chain at the hub is not seen here: comparing with the chair
    (:func:`matches_chair`) finds that.
    """
    origins = [str(r[0]) for r in conn.execute("SELECT DISTINCT origin FROM audit_log ORDER BY origin")]
    names: dict[str, str | None] = {str(o): n for o, n in conn.execute("SELECT origin, name FROM chairs")}
    chains = []
    for origin in origins:
        with conn.cursor() as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM audit_log WHERE origin = %s ORDER BY id", (origin,))
            result = check_rows(cur, 0)
        chains.append(ChairChain(origin, names.get(origin), result))
    return chains


def matches_chair(conn: psycopg.Connection, chair: sqlite_utils.Database, origin: str) -> str | None:
    """None when the hub's copy of this chair's chain is the start of the chair's own; else why not."""
    row = conn.execute("SELECT max(id) FROM audit_log WHERE origin = %s", (origin,)).fetchone()
    last = int(row[0]) if row and row[0] is not None else 0
    if last == 0:
        return None
    hub_hash = conn.execute("SELECT hash FROM audit_log WHERE origin = %s AND id = %s",
                            (origin, last)).fetchone()
    mine = chair.execute("SELECT hash FROM audit_log WHERE id = ?", [last]).fetchone()
    if mine is None:
        return (f"the hub holds {last} audit rows of this chair, the chair only "
                f"{chair.execute('SELECT count(*) FROM audit_log').fetchone()[0]}: "
                "this file is not the one that pushed them (an older copy?)")
    if hub_hash is None or hub_hash[0] != mine[0]:
        return f"audit row {last} differs between the hub and this chair: they hold different histories"
    return None
