"""The patients and courses a chair's rows name, written to the hub with those rows.

One place for it, so the rules for mutable reference data (who wins when a patient's details were
edited in two places, what is kept of the loser) live beside each other, whatever row brings the
patient or course along: a session (db.hub.push._send_session) or a safety record
(db.hub.push._send_safety).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from db.hub import schema
from db.hub.schema import names

Row = tuple[Any, ...]

PATIENT = ["uuid", "local_id", *names(schema.PATIENT_COLUMNS), "origin"]
COURSE = ["uuid", "local_id", "patient_uuid", *names(schema.COURSE_COLUMNS), "origin"]


def ident_list(columns: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def upsert(table: str, columns: Sequence[str], conflict: Sequence[str], fixed: Sequence[str]) -> sql.Composed:
    """Insert, or bring the hub's row up to the chair's (only when it differs, so no row churns)."""
    changing = [c for c in columns if c not in conflict and c not in fixed]
    return sql.SQL("INSERT INTO {t} ({cols}) VALUES ({vals}) ON CONFLICT ({key}) DO UPDATE SET ({chg}) = "
                   "ROW({exc}) WHERE ({cur}) IS DISTINCT FROM ({exc})").format(
        t=sql.Identifier(table), cols=ident_list(columns),
        vals=sql.SQL(", ").join(sql.Placeholder() * len(columns)), key=ident_list(conflict),
        chg=ident_list(changing),
        exc=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in changing),
        cur=sql.SQL(", ").join(sql.SQL("{}.{}").format(sql.Identifier(table), sql.Identifier(c))
                               for c in changing))


def send_reference(conn: psycopg.Connection, patients: Sequence[Row], courses: Sequence[Row],
                   origin: str) -> None:
    """Write the chair's patients (rows as :data:`PATIENT` without origin) and courses (as
    :data:`COURSE`), inside the caller's hub transaction, patients first."""
    with conn.cursor() as cur:
        if patients:
            cur.executemany(upsert("patients", PATIENT, ["uuid"], ["origin", "local_id"]),
                            [(*p, origin) for p in patients])
        if courses:
            cur.executemany(upsert("courses", COURSE, ["uuid"], ["origin", "local_id"]),
                            [(*c, origin) for c in courses])
