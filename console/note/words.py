"""Plain words for the handoff note: jargon out, local times in, the clinic's guidance read.

The therapist reading the note is not a TMS specialist, so every word that
comes from the device or the prescription goes through here. The words
themselves are the clinic's (``resources/note_guidance.json``); this module
only applies them, so a clinic changes the wording without touching code.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from console.resource_data import load as load_json
from resources import SHIPPED, resource_path

log = logging.getLogger(__name__)

GUIDANCE_FILE = "note_guidance.json"


@dataclass(frozen=True)
class Guidance:
    """The clinic's note guidance file, with the shipped file as the fallback for a bad edit."""

    data: dict[str, Any]
    problem: str | None = None  # why the clinic's copy was not used, when it was not

    @classmethod
    def load(cls) -> Guidance:
        """The clinic's copy; a copy that is not valid JSON falls back to the shipped one, with the reason."""
        path = resource_path(GUIDANCE_FILE)
        try:
            data = load_json(GUIDANCE_FILE)
            if not isinstance(data, dict):
                raise ValueError("the file must hold one JSON object")
            return cls(data)
        except (OSError, ValueError) as exc:
            where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
            problem = (f"The clinic's {path.name} could not be read{where}: {exc}; "
                       "the default guidance is used.")
            log.info("%s", problem)  # carried in NoteContent.problems for the caller to show
            with (SHIPPED / GUIDANCE_FILE).open(encoding="utf-8") as f:
                return cls(json.load(f), problem)

    def section(self, *keys: str) -> Any:
        node: Any = self.data
        for key in keys:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node

    def texts(self, *keys: str) -> list[str]:
        """A list of strings from the file; anything else there is ignored, not printed."""
        node = self.section(*keys)
        if not isinstance(node, list):
            return []
        return [str(item) for item in node if isinstance(item, str) and item.strip()]

    def word(self, group: str, key: str | None) -> str | None:
        table = self.section("plain_words", group)
        if not key or not isinstance(table, dict):
            return None
        value = table.get(key)
        return str(value) if isinstance(value, str) and value else None

    @cached_property
    def _abbreviation_pattern(self) -> tuple[re.Pattern[str], dict[str, str]] | None:
        table = self.section("plain_words", "abbreviations")
        if not isinstance(table, dict) or not table:
            return None
        words = {str(k): str(v) for k, v in table.items() if k and isinstance(v, str)}
        # Longest first, so "% MT" wins over "MT"; word edges keep "MT" out of "SMT".
        alternatives = sorted(words, key=len, reverse=True)
        pattern = re.compile("|".join(rf"(?<![\w]){re.escape(a)}(?![\w])" for a in alternatives))
        return pattern, words

    def plain(self, text: str | None) -> str:
        """Text from the record with the clinic's abbreviations spelled out."""
        if not text:
            return ""
        compiled = self._abbreviation_pattern
        if compiled is None:
            return text
        pattern, words = compiled
        return pattern.sub(lambda m: words[m.group(0)], text)


def local_time(iso: str | None) -> datetime | None:
    """A stored UTC time in the computer's local time zone (the note is read where it is printed)."""
    if not iso:
        return None
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        log.warning("unreadable time in the record: %r", iso)
        return None
    return value.astimezone()


def day_words(moment: datetime | None) -> str:
    return f"{moment:%a} {moment.day} {moment:%b %Y}" if moment else "–"


def short_day(moment: datetime | None) -> str:
    return f"{moment.day} {moment:%b}" if moment else "–"


def clock_words(moment: datetime | None) -> str:
    return f"{moment:%H:%M}" if moment else "–"


def duration_words(seconds: float | None) -> str:
    """'18 min 30 s' — how long something took, for a reader, not a timer."""
    if seconds is None:
        return "–"
    total = max(0, round(seconds))
    minutes, secs = divmod(total, 60)
    if minutes and secs:
        return f"{minutes} min {secs} s"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def detail_of(detail: str | None) -> Any:
    """An event's detail: JSON when it is JSON, else the text itself."""
    if detail is None or detail == "":
        return None
    try:
        return json.loads(detail)
    except (TypeError, ValueError):
        return detail


def detail_text(detail: Any, *keys: str) -> str:
    """The human part of an event detail: the first of ``keys`` present, or the text itself."""
    if detail is None:
        return ""
    if isinstance(detail, dict):
        for key in keys or ("reason", "text", "note", "what", "message", "description"):
            value = detail.get(key)
            if value not in (None, ""):
                return str(value)
        return ""
    return str(detail)


def pulses_words(session: dict[str, Any]) -> str:
    """How many pulses, for the therapist: given of planned, or that the device could not say
    (a device that does not report each pulse is never "0 of 600": issue 16)."""
    planned = session["pulses_planned"]
    if not session.get("pulses_observed", 1):
        said = "pulses not observed (the device does not report them)"
        return f"{said}, {planned} planned" if planned else said
    return f"{session['pulses_delivered'] or 0} of {planned or '–'} pulses"
