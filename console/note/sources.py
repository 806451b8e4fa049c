"""The note's reads from other parts of the program: settings, signatures, outcome rules, who was told,
and the resource lists that name things (checklist questions, side-effect labels).

Each belongs to its own module (``console.clinic.settings``, ``console.review.signoff``,
``console.clinic.outcomes``); the note asks them rather than reading their tables,
so it says exactly what every other screen says. Where an answer cannot be
had, the note takes the safe reading: the setting's default, and "not yet
reviewed" — a note never claims a review it cannot show.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from console.clinic import outcomes, settings
from console.errors import ClinicError
from console.note.words import clock_words, day_words, local_time
from console.people.user import full_names
from console.resource_data import lists as clinic_lists
from console.review import signoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignatureLine:
    name: str
    meaning: str
    signed_at: str  # local time, for the page
    comment: str


def read_setting(db: sqlite_utils.Database, key: str, default: Any) -> Any:
    """The clinic's setting, or ``default`` when this version does not know the key."""
    try:
        value = settings.get_setting(db, key)
    except ClinicError:
        log.warning("clinic setting %r unknown; the note uses %r", key, default)
        return default
    return default if value is None else value


def _when(value: Any) -> str:
    moment = local_time(value) if isinstance(value, str) else None
    return f"{day_words(moment)} {clock_words(moment)}" if moment else str(value or "")


def read_signatures(db: sqlite_utils.Database, session_id: int) -> list[SignatureLine]:
    """The session's sign-off signatures (not the addenda's), oldest first; empty when unsigned."""
    return [
        SignatureLine(s.signer_name, s.meaning, _when(s.signed_at), s.comment or "")
        for s in signoff.signatures_for(db, session_id)
    ]


def person_name(db: sqlite_utils.Database, username: str) -> str:
    """The full name of the account ``username``, as the note prints people (the user name itself
    when no account of that name is in this database)."""
    return full_names(db).get(username, username)


def outcome_rules() -> tuple[float, int]:
    """The clinic's response drop (%) and PHQ-9 remission ceiling, as the outcome screens use them."""
    data = outcomes.texts()
    remission_at_most = int(data["instruments"]["PHQ-9"]["remission_at_most"])
    return float(data.get("response_drop_percent", 50)), remission_at_most


def read_item9_notifications(db: sqlite_utils.Database, outcome_id: int) -> list[str]:
    """Who was told of a PHQ-9 item 9 answer above 0, and when, as recorded ("Dr X at Tue ... 09:40")."""
    return [
        f"{n['told_whom']} at {_when(n['told_at'])}" + (f" ({n['note']})" if n["note"] else "")
        for n in outcomes.item9_notifications(db, outcome_id)
    ]


def checklist_questions() -> dict[str, str]:
    """Checklist item id -> its question, for a change the clinic gave no phrase for; empty if unreadable."""
    try:
        return {str(i["id"]): str(i["question"]) for i in clinic_lists.checklist_items()}
    except ValueError as exc:  # ResourceError: the note still prints, without the questions
        log.warning("checklist questions not read: %s", exc)
        return {}


def side_effect_labels() -> dict[str, str]:
    """Side-effect kind -> the label the chair shows, so the note names it the same; empty if unreadable."""
    try:
        return {s["kind"]: s["label"] for s in clinic_lists.side_effect_choices()}
    except ValueError as exc:
        log.warning("side-effect labels not read: %s", exc)
        return {}


def setting_labels() -> dict[str, str]:
    """Setting key -> the label a person knows it by, to name a setting the note needs."""
    try:
        return {key: str(spec.get("label", key)) for key, spec in settings.definitions().items()}
    except (OSError, ValueError, KeyError) as exc:
        log.warning("setting labels not read: %s", exc)
        return {}
