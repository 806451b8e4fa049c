"""The whole schema: every migration set, in the order they are applied.

The core set comes first; accounts/audit and the clinical-safety records
keep their own sets (and files) so each area's schema history stays apart.
Conventions for every set are described in :mod:`db.schema_core`.
"""

from __future__ import annotations

from sqlite_utils.migrations import Migrations

from db import schema_accounts, schema_clinical, schema_core, schema_sync
from db.schema_core import SIDE_EFFECT_RATING

__all__ = ["SIDE_EFFECT_RATING", "migration_sets"]


def migration_sets() -> list[Migrations]:
    """Every migration set, in the order they are applied."""
    return [schema_core.migrations, schema_accounts.migrations, schema_clinical.migrations,
            schema_sync.migrations]
