"""How a migration runs its SQL: one statement at a time inside the migration's transaction."""

from __future__ import annotations

from sqlite_utils import Database


def run_statements(db: Database, statements: list[str]) -> None:
    """Run a migration's SQL one statement at a time: executescript() would COMMIT the
    migration's transaction behind our back (and a failing migration must roll back whole)."""
    for sql in statements:
        db.execute(sql)
