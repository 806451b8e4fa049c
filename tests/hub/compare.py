"""The chair and the hub, table by table, in comparable rows (the chair's own columns, by name).

Columns are read from the chair's file itself (``PRAGMA table_info``), not from the hub's
column lists, so a column the hub forgot shows up as a difference.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg

# chair table -> (hub table, chair columns mapped to hub names, row order)
_RENAMED = {"session_events": {"id": "event_id"}, "addenda": {"id": "addendum_id"},
            "signatures": {"id": "signature_id"}, "motor_thresholds": {"id": "local_id"},
            "sessions": {"id": "local_id"}, "patients": {"id": "local_id"}, "courses": {"id": "local_id"}}
_PARENT = {"patient_id": ("patients", "patient_uuid"), "course_id": ("courses", "course_uuid"),
           "session_id": ("sessions", "session_uuid"), "user_id": ("users", "user_uuid"),
           "screening_id": ("screenings", "screening_uuid")}
SAFETY = ("screenings", "clearances", "overrides", "adverse_events", "outcomes", "safety_notifications",
          "physician_holds_lifted", "pre_session_checklists")
"""Pushed whole, every row, whatever session (if any) it belongs to."""
_RENAMED.update({table: {"id": "local_id"} for table in SAFETY})
TABLES = ("patients", "courses", "motor_thresholds", "sessions", "pulses", "poses", "session_events",
          "addenda", "signatures", "audit_log", *SAFETY)


def chair_rows(chair_path: Path, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The chair's ended-session rows of ``table`` with parents named by uuid, as hub column names."""
    conn = sqlite3.connect(chair_path)
    try:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        select, hub_names, joins = [], [], []
        for c in columns:
            if c in _PARENT:
                parent, hub_name = _PARENT[c]
                alias = f"j_{c}"
                joins.append(f"LEFT JOIN {parent} {alias} ON {alias}.id = t.{c}")
                select.append(f"{alias}.uuid")
                hub_names.append(hub_name)
            else:
                select.append(f"t.{c}")
                hub_names.append(_RENAMED.get(table, {}).get(c, c))
        where = ""
        if table == "sessions":
            where = "WHERE t.status != 'recording'"
        elif "session_id" in columns and table not in SAFETY:
            where = "WHERE t.session_id IN (SELECT id FROM sessions WHERE status != 'recording')"
        rows = conn.execute(f"SELECT {', '.join(select)} FROM {table} t {' '.join(joins)} {where}").fetchall()
    finally:
        conn.close()
    return hub_names, sorted(rows, key=repr)


def hub_rows(conninfo: str, table: str, columns: list[str], origin: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE origin = %s".encode(),
                            (origin,)).fetchall()
    return sorted(rows, key=repr)


def differences(chair_path: Path, conninfo: str, origin: str,
                tables: tuple[str, ...] = TABLES) -> dict[str, str]:
    """Each table where the hub does not hold exactly the chair's rows, with a short description."""
    found = {}
    for table in tables:
        columns, expected = chair_rows(chair_path, table)
        got = hub_rows(conninfo, table, columns, origin)
        if got != expected:
            extra = len(set(got) - set(expected))
            missing = len(set(expected) - set(got))
            found[table] = f"{len(got)} rows at the hub, {len(expected)} on the chair " \
                           f"({missing} missing, {extra} not on the chair)"
    return found


def count(conninfo: str, table: str, origin: str | None = None) -> int:
    with psycopg.connect(conninfo) as conn:
        if origin is None:
            row = conn.execute(f"SELECT count(*) FROM {table}".encode()).fetchone()
        else:
            row = conn.execute(f"SELECT count(*) FROM {table} WHERE origin = %s".encode(),
                               (origin,)).fetchone()
    assert row is not None
    return int(row[0])
