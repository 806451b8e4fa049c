"""Clinic settings: tolerances, idle lock, reminders, what the note may show.

The clinic's choices live in the database (``settings`` table, one JSON value
per key, with who changed it and when), so every chair reading that
database agrees. What a setting means, its type, range and shipped default
are data in ``resources/settings_defaults.json``. A person's own window
layout is not here: that belongs in QSettings.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import sqlite_utils

from console.audit import audit
from console.errors import ClinicError, PermissionDenied
from console.people.permissions import require
from console.people.user import User, get_user, refresh
from console.resource_data import load as load_json
from db.database import utc_now

log = logging.getLogger(__name__)


def definitions() -> dict[str, dict]:
    """Every known setting: key -> {default, type, min, max, label, help}.

    Read from the file each time (it is small), so a clinic's edited copy counts at once.
    """
    return dict(load_json("settings_defaults.json")["settings"])


def _definition(key: str, specs: dict[str, dict] | None = None) -> dict:
    try:
        return (specs if specs is not None else definitions())[key]
    except KeyError:
        raise ClinicError(f"There is no clinic setting called {key!r}.") from None


def validate(key: str, value: Any, specs: dict[str, dict] | None = None) -> Any:
    """The value as it will be stored, or ClinicError saying what is allowed."""
    spec = _definition(key, specs)
    label = spec.get("label", key)
    kind = spec["type"]
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ClinicError(f"{label}: choose on or off.")
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise ClinicError(f"{label}: enter text.")
        value = value.strip()
        limit = spec.get("max_length")
        if limit is not None and len(value) > limit:
            raise ClinicError(f"{label}: at most {limit} characters.")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ClinicError(f"{label}: enter a number.")
    if kind == "integer":
        if value != int(value):
            raise ClinicError(f"{label}: enter a whole number.")
        value = int(value)
    else:
        value = float(value)
    low, high = spec.get("min"), spec.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ClinicError(f"{label}: enter a value from {low:g} to {high:g}.")
    return value


def _stored(key: str, raw: str | None, specs: dict[str, dict]) -> Any:
    spec = specs[key]
    if raw is None:
        return spec["default"]
    try:
        return validate(key, json.loads(raw), specs)
    except (ValueError, ClinicError):
        # A value no longer allowed (the range changed) must not reach the chair.
        log.error("clinic setting %s in the database is not valid; using the default", key)
        return spec["default"]


def is_secret(key: str) -> bool:
    """A setting whose value is never shown, listed or audited (a device's unlock code)."""
    return bool(_definition(key).get("secret", False))


def is_per_chair(key: str) -> bool:
    """A setting about this computer or its devices (its hub address, its name): it never travels
    through the clinic hub (db.hub.settings_sync: the file's ``per_chair`` mark and a fixed few)."""
    from db.hub.settings_sync import per_chair_keys

    _definition(key)
    return key in per_chair_keys()


def _masked(value: Any) -> str:
    return "***" if value else ""


def get_setting(db: sqlite_utils.Database, key: str) -> Any:
    """The clinic's value of ``key``, or its shipped default when the clinic has not chosen one."""
    specs = definitions()
    _definition(key, specs)
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return _stored(key, row[0] if row else None, specs)


def all_settings(db: sqlite_utils.Database) -> dict[str, Any]:
    """Every known setting with its current value."""
    specs = definitions()
    raw = dict(db.execute("SELECT key, value FROM settings").fetchall())
    return {key: _stored(key, raw.get(key), specs) for key in specs}


def _changer(db: sqlite_utils.Database, changed_by: User | str) -> User:
    """The account changing a setting, as the database knows it now, allowed to change settings.

    The audit row names this account, never a free string: a name that is no account (or an
    account since disabled or demoted) cannot change the clinic's settings (issue 15).
    """
    if isinstance(changed_by, User):
        fresh = refresh(db, changed_by)
    else:
        name = (changed_by or "").strip()
        if not name:
            raise ClinicError("A clinic setting can only be changed by a named user.")
        found = get_user(db, name)
        if found is None:
            raise PermissionDenied(f"There is no account named {name!r}; only an admin's account can "
                                   "change clinic settings.")
        fresh = found
    require(fresh, "edit_settings")
    return fresh


def set_setting(db: sqlite_utils.Database, key: str, value: Any, changed_by: User | str) -> None:
    """Store the clinic's choice for ``key`` (validated), recording who changed it and when.

    ``changed_by`` is the admin's account (or its user name): checked against the database.
    """
    value = validate(key, value)
    if isinstance(changed_by, str) and not changed_by.strip():
        raise ClinicError("A clinic setting can only be changed by a named user.")
    with db.atomic():
        user = _changer(db, changed_by)
        old = get_setting(db, key)
        db.execute(
            "INSERT INTO settings (key, value, changed_at, changed_by) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, changed_at = excluded.changed_at, "
            "changed_by = excluded.changed_by",
            [key, json.dumps(value), utc_now(), user.username],
        )
        if is_secret(key):  # the audit says it changed, never what it is
            old, value = _masked(old), _masked(value)
        audit(db, user, "change_setting", "setting", key, {"value": old}, {"value": value})
    log.info("clinic setting %s changed by %s", key, user.username)


def change_setting(db: sqlite_utils.Database, user: User, key: str, value: Any) -> None:
    """A person changes a clinic setting: only an admin may (checked before anything is written)."""
    require(user, "edit_settings")
    require(refresh(db, user), "edit_settings")  # disabled or demoted since logging in
    set_setting(db, key, value, user)
