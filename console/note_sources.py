"""The note's reads from other parts of the program: clinic settings and sign-off signatures.

Both belong to other modules (``console.settings``, ``console.signoff``);
the note uses their functions when they are present, so it agrees with every
other screen. Where one is missing (an older build, or a piece not yet
built), the note reads the documented table directly, and when even that is
missing it falls back to the safe reading: the default setting, and "not yet
reviewed" — a note never claims a review it cannot show.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from console.note_words import clock_words, day_words, local_time
from resources import load_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignatureLine:
    name: str
    meaning: str
    signed_at: str  # local time, for the page
    comment: str


def read_setting(db: sqlite_utils.Database, key: str, default: Any) -> Any:
    """A clinic setting through console.settings when it exists, else the settings table, else ``default``."""
    try:
        from console.settings import get_setting
    except ImportError:
        get_setting = None
    if get_setting is not None:
        try:
            value = get_setting(db, key)
        except (KeyError, LookupError, ValueError):
            return default  # a key that module does not know: the note's default
        return default if value is None else value
    if "settings" not in db.table_names():
        return default
    row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    if row is None:
        return default
    try:
        return json.loads(row[0])
    except (TypeError, ValueError):
        return row[0]


def _when(value: Any) -> str:
    moment = local_time(value) if isinstance(value, str) else None
    if moment is None and hasattr(value, "astimezone"):
        moment = value.astimezone()
    return f"{day_words(moment)} {clock_words(moment)}" if moment else str(value or "")


def read_signatures(db: sqlite_utils.Database, session_id: int) -> list[SignatureLine]:
    """The session's sign-off signatures, oldest first; empty when unsigned or unknowable."""
    try:
        from console.signoff import signatures_for
    except ImportError:
        signatures_for = None
    if signatures_for is not None:
        found = signatures_for(db, session_id)
        return [
            SignatureLine(
                name=str(getattr(s, "signer_name", "") or ""),
                meaning=str(getattr(s, "meaning", "") or "signed"),
                signed_at=_when(getattr(s, "signed_at", None)),
                comment=str(getattr(s, "comment", "") or ""),
            )
            for s in found
        ]
    if "signatures" not in db.table_names():
        return []
    columns = set(db["signatures"].columns_dict)
    if not {"session_id", "signer_name", "meaning", "signed_at"} <= columns:
        log.warning("signatures table without the expected columns: %s", sorted(columns))
        return []
    comment = "comment" if "comment" in columns else "NULL"
    rows = db.execute(
        f"SELECT signer_name, meaning, signed_at, {comment} FROM signatures "
        "WHERE session_id = ? ORDER BY signed_at", (session_id,),
    ).fetchall()
    return [SignatureLine(str(n), str(m or "signed"), _when(t), str(c or "")) for n, m, t, c in rows]


def outcome_rules() -> tuple[float, int]:
    """The clinic's response drop (%) and PHQ-9 remission ceiling, as the outcome screens use them."""
    try:
        data = load_json("outcomes.json")
        return (float(data.get("response_drop_percent", 50)),
                int(data["instruments"]["PHQ-9"]["remission_at_most"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("outcome thresholds not read (%s); using 50 %% and PHQ-9 below 5", exc)
        return 50.0, 4


def read_item9_notifications(db: sqlite_utils.Database, outcome_id: int) -> list[str]:
    """Who was told of a PHQ-9 item 9 answer above 0, and when, as recorded ("Dr X at 09:40")."""
    if "safety_notifications" not in db.table_names():
        return []
    rows = db.execute("SELECT told_whom, told_at, note FROM safety_notifications WHERE outcome_id = ? "
                      "ORDER BY id", (outcome_id,)).fetchall()
    return [f"{whom} at {_when(at)}" + (f" ({note})" if note else "") for whom, at, note in rows]
