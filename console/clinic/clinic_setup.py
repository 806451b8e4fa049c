"""The first start's guided clinic set-up: which settings it asks for, and whether it is still due.

The set-up is asked of the admin on a clinic's real database until the clinic's name has been
saved once (through :func:`console.clinic.settings.change_setting`, so it is audited); a demo
database never asks.
"""

from __future__ import annotations

from typing import Final

import sqlite_utils

from console.people.user import is_demo_database

SETUP_KEYS: Final = (
    "clinic_name",
    "clinic_phone",
    "supervising_physician",
    "tol_distance_mm",
    "tol_angle_deg",
    "idle_lock_minutes",
    "mt_remeasure_days",
)
"""The settings the first start asks for, in order (what each means is in settings_defaults.json)."""


def needs_clinic_setup(db: sqlite_utils.Database) -> bool:
    """True on a real database whose clinic name was never saved (the set-up was not done)."""
    if is_demo_database(db):
        return False
    return db.execute("SELECT 1 FROM settings WHERE key = 'clinic_name'").fetchone() is None
