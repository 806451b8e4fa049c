"""Schema for this chair's exchange with the clinic hub (issue 18): its own migration set
(``tms_console_sync``), applied after the others, so the hub's needs stay apart from the clinical
record's history.

0001: a sign-off made at a review station (the hub's ``hub_signoffs``) comes back to the chair as a
row of ``signatures`` keeping the hub's uuid in ``hub_signoff_uuid``: one sign-off, not two, on both
sides.

0002: what the chair remembers of its exchange of reference data with the hub (db.hub.pull):
``hub_reference``, per patient, course and account, the hub revision and the hash of the values last
agreed with the hub (a row whose values differ from that hash was edited on this chair); and
``hub_pulled``, which local rows came from another chair through the hub (their origin and hub key),
so a push never sends another chair's motor threshold or screening as this chair's. Bookkeeping, not
clinical record: ``hub_reference`` is rewritten by every pull; ``hub_pulled`` rows are never changed
or deleted (a lost row would make the push send the other chair's record under this chair's id).
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from db.migration_sql import run_statements as _run

migrations = Migrations("tms_console_sync")


@migrations(name="0001_hub_signoff_link")
def m0001_hub_signoff_link(db: Database) -> None:
    _run(db, [
        "ALTER TABLE signatures ADD COLUMN hub_signoff_uuid TEXT",
        """CREATE UNIQUE INDEX idx_signatures_hub_signoff ON signatures (hub_signoff_uuid)
           WHERE hub_signoff_uuid IS NOT NULL""",
    ])


@migrations(name="0002_hub_reference")
def m0002_hub_reference(db: Database) -> None:
    _run(db, [
        """CREATE TABLE hub_reference (
            entity TEXT NOT NULL,
            uuid TEXT NOT NULL,
            revision INTEGER NOT NULL,
            values_hash TEXT NOT NULL,
            PRIMARY KEY (entity, uuid)
        ) WITHOUT ROWID""",
        """CREATE TABLE hub_pulled (
            entity TEXT NOT NULL,
            local_id INTEGER NOT NULL,
            origin TEXT NOT NULL,
            hub_key TEXT NOT NULL,
            pulled_at TEXT NOT NULL,
            PRIMARY KEY (entity, local_id)
        ) WITHOUT ROWID""",
        "CREATE UNIQUE INDEX idx_hub_pulled_key ON hub_pulled (entity, hub_key)",
        """CREATE TRIGGER hub_pulled_no_update BEFORE UPDATE ON hub_pulled
           BEGIN SELECT RAISE(ABORT, 'where a pulled row came from never changes'); END""",
        """CREATE TRIGGER hub_pulled_no_delete BEFORE DELETE ON hub_pulled
           BEGIN SELECT RAISE(ABORT, 'where a pulled row came from never changes'); END""",
    ])
