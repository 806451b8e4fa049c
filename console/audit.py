"""The audit trail: who did what, when, with the values before and after.

Every create, change and sign-off by a person writes one row through
:func:`audit`. Rows are chained: each carries a SHA-256 over its own content
and the previous row's hash, so changing, removing or inserting a row - even
by someone who drops the SQL triggers that refuse UPDATE and DELETE, or edits
the file with a hex editor - is found by :func:`verify`, which names the first
broken row. The head hash printed by ``python main.py audit verify`` can be
written down or sent elsewhere: a log rebuilt from scratch will not match it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlite_utils

from db.database import utc_now, write_transaction

__all__ = ["audit", "verify", "write_transaction"]

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"
"""The actor of rows written by the program itself (demo set-up, first start)."""

_SECRET_MARKERS = ("password", "secret")
_REDACTED = "(not recorded)"


class _HasUsername(Protocol):
    @property
    def username(self) -> str: ...  # read-only: User is a frozen dataclass


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify` found; ``first_bad_row`` is the audit row id (1 = the first row)."""

    ok: bool
    rows: int
    head_hash: str | None
    first_bad_row: int | None = None
    problem: str | None = None


def _actor_name(actor: _HasUsername | str | None) -> str:
    if actor is None:
        return SYSTEM_ACTOR
    if isinstance(actor, str):
        return actor
    return actor.username


def _redact(values: Mapping[str, Any]) -> dict[str, Any]:
    """Password hashes and other secrets never reach the audit log."""
    return {
        key: (_REDACTED if any(m in key.lower() for m in _SECRET_MARKERS) else value)
        for key, value in values.items()
    }


def _values_text(values: Mapping[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps(_redact(values), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)


def row_hash(row_id: int, at: Any, actor: Any, action: Any, entity: Any, entity_id: Any,
             old_values: Any, new_values: Any, prev_hash: Any) -> str:
    """SHA-256 over exactly what is stored in the row (as read back) and the previous hash."""
    content = json.dumps(
        [row_id, at, actor, action, entity, entity_id, old_values, new_values, prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def audit(
    db: sqlite_utils.Database,
    actor: _HasUsername | str | None,
    action: str,
    entity: str,
    entity_id: Any,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
) -> None:
    """Append one row: who (``actor``: a User, a user name, or None for the program),
    UTC time, what (``action`` on ``entity`` ``entity_id``), old and new values.

    Call it inside the transaction that makes the change, so the change and
    its audit row are committed together or not at all.
    """
    actor_text = _actor_name(actor)
    entity_text = None if entity_id is None else str(entity_id)
    old_text, new_text = _values_text(old), _values_text(new)
    with write_transaction(db):
        seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
        row_id = (seq[0] if seq else 0) + 1
        head = db.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        prev_hash = head[0] if head else None
        at = utc_now()
        digest = row_hash(row_id, at, actor_text, action, entity, entity_text, old_text, new_text,
                          prev_hash)
        db.execute(
            "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, old_values, "
            "new_values, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row_id, at, actor_text, action, entity, entity_text, old_text, new_text, prev_hash,
             digest],
        )
    log.debug("audit %s %s %s/%s", actor_text, action, entity, entity_text)


def check_rows(cursor: Iterable[Sequence[Any]], highest_id: int) -> VerifyResult:
    """Walk one chain's rows in id order (id, at, actor, action, entity, entity_id, old_values,
    new_values, prev_hash, hash), wherever they are kept: the chair's file, or one chair's rows at
    the clinic hub (console.audit_hub)."""
    count = 0
    prev_id = 0
    prev_hash: str | None = None
    for row in cursor:
        row_id, at, actor, action, entity, entity_id, old_v, new_v, stored_prev, stored_hash = row
        count += 1
        if not isinstance(row_id, int) or row_id != prev_id + 1:
            missing = prev_id + 1
            return VerifyResult(False, count, prev_hash, missing,
                                f"row {missing} is missing: the log jumps from row {prev_id} to row {row_id}")
        if stored_prev != prev_hash:
            return VerifyResult(False, count, prev_hash, row_id,
                                f"row {row_id} does not link to row {prev_id}: the rows before it "
                                "were changed, removed or inserted")
        expected = row_hash(row_id, at, actor, action, entity, entity_id, old_v, new_v, stored_prev)
        if stored_hash != expected:
            return VerifyResult(False, count, prev_hash, row_id,
                                f"row {row_id} was changed after it was written (its content does "
                                "not match its hash)")
        prev_id, prev_hash = row_id, stored_hash
    if highest_id > prev_id:
        return VerifyResult(False, count, prev_hash, prev_id + 1,
                            f"rows {prev_id + 1} to {highest_id} are missing from the end of the log")
    return VerifyResult(True, count, prev_hash)


def verify(db: sqlite_utils.Database) -> VerifyResult:
    """Recompute the whole chain; the first row that does not hold is named."""
    if "audit_log" not in db.table_names():
        return VerifyResult(False, 0, None, None, "this database has no audit log")
    own_transaction = not db.conn.in_transaction
    try:
        if own_transaction:
            db.conn.execute("BEGIN")  # one snapshot for the rows and the highest id
        try:
            seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
            cursor = db.execute(
                "SELECT id, at, actor, action, entity, entity_id, old_values, new_values, "
                "prev_hash, hash FROM audit_log ORDER BY id"
            )
            result = check_rows(cursor, int(seq[0]) if seq else 0)
        finally:
            if own_transaction and db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        return VerifyResult(False, 0, None, None, f"the audit log cannot be read: {exc}")
    if not result.ok:
        log.warning("audit log broken: %s", result.problem)
    return result


def history(db: sqlite_utils.Database, entity: str | None = None, entity_id: Any = None,
            limit: int | None = None) -> list[dict[str, Any]]:
    """Audit rows, newest first, optionally of one entity; old/new values decoded."""
    where, params = [], []
    if entity is not None:
        where.append("entity = ?")
        params.append(entity)
    if entity_id is not None:
        where.append("entity_id = ?")
        params.append(str(entity_id))
    sql = "SELECT id, at, actor, action, entity, entity_id, old_values, new_values FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    rows = []
    for row_id, at, actor, action, ent, ent_id, old_v, new_v in db.execute(sql, params):
        rows.append({
            "id": row_id, "at": at, "actor": actor, "action": action, "entity": ent,
            "entity_id": ent_id,
            "old": json.loads(old_v) if old_v else None,
            "new": json.loads(new_v) if new_v else None,
        })
    return rows
