"""A device address as the clinic's set-up completes it: its secret options from the settings.

A Magstim Rapid² with software 9 or later answers only after the unit's unlock code (issue 16).
That code is a secret clinic setting (``magstim_unlock_code``): the technician picks or types the
address without it, and the console adds it here, just before the adapter is made; it is never
part of an address that is shown, remembered, logged or stored (``devices.adapter.redact_url``).
An address that already carries the option keeps its own.
"""

from __future__ import annotations

from urllib.parse import quote

import sqlite_utils

from console.clinic.settings import get_setting

MASK = "***"
"""What a remembered or shown address carries in place of a secret (devices.adapter.redact_url)."""
SECRETS = {"magstim+serial": ("unlock", "magstim_unlock_code")}
"""Scheme -> (the address option, the clinic setting that holds its value)."""


def clinic_secrets(db: sqlite_utils.Database) -> dict[str, tuple[str, str]]:
    """Scheme -> (address option, its value) for each secret the clinic has set; read where the
    database is (the GUI thread), used where the device is opened (a worker thread)."""
    found = {}
    for scheme, (option, key) in SECRETS.items():
        value = str(get_setting(db, key) or "").strip()
        if value:
            found[scheme] = (option, value)
    return found


def complete_address(url: str, secrets: dict[str, tuple[str, str]]) -> str:
    """``url`` with the clinic's secret option added where the address has none of its own."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in secrets:
        return url
    option, value = secrets[scheme]
    base, _, query = url.partition("?")
    parts = [p for p in query.split("&") if p]
    own = [p for p in parts if p.split("=", 1)[0] == option]
    if own and own[0] != f"{option}={MASK}":
        return url  # the address brings its own
    # none, or the mask a remembered address carries instead of the code: the clinic's code
    parts = [p for p in parts if p.split("=", 1)[0] != option] + [f"{option}={quote(value, safe='-')}"]
    return f"{base}?{'&'.join(parts)}"


def with_clinic_secrets(db: sqlite_utils.Database, url: str) -> str:
    """``url`` with the clinic's secret options added where the address has none."""
    return complete_address(url, clinic_secrets(db))
