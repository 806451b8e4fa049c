"""Schema for this chair's exchange with the clinic hub (issue 18): its own migration set
(``tms_console_sync``), applied after the others, so the hub's needs stay apart from the clinical
record's history.

0001: a sign-off made at a review station (the hub's ``hub_signoffs``) comes back to the chair as a
row of ``signatures`` keeping the hub's uuid in ``hub_signoff_uuid``: one sign-off, not two, on both
sides.
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
