"""Schema for people and accountability: users, signatures, the audit log."""

from __future__ import annotations

from sqlite_utils.migrations import Migrations

migrations = Migrations("tms_console_accounts")
