"""Schema for clinical safety: screening, clearances, overrides, schedules."""

from __future__ import annotations

from sqlite_utils.migrations import Migrations

migrations = Migrations("tms_console_clinical")
