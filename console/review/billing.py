"""The CPT code of each session (90867 first of a course, 90868 later, 90869 later with a new MT).

The codes, their words, their source and the rules that pick one are the
clinic's data (``resources/cpt_codes.json``); this module only reads the facts
a rule asks about from the record: whether the session is the first of its
course that delivered pulses, and whether a motor threshold was recorded for
the patient on the session's day.

The code is worked out each time it is read, never stored. Ended sessions are
append-only, yet the facts a code rests on can arrive later (an MT typed in
after the session on the same day), and a clinic that corrects its rules
(once its billing staff have checked them against the AMA CPT book) should see
every session coded by the corrected rules, not by the ones of the day it was
recorded. Reading it costs one query per course.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlite_utils

from console.resource_data import ResourceError, load

CPT_FILE = "cpt_codes.json"


@dataclass(frozen=True)
class CptCode:
    """One session's code, with what it means and where that comes from."""

    code: str
    words: str
    source: str
    verified: bool
    """False: nobody has checked the code against the AMA CPT book (the file says so)."""

    @property
    def text(self) -> str:
        """'90868 · Later TMS treatment … (not yet checked against the CPT book)' for the record."""
        check = "" if self.verified else " (not yet checked against the CPT book)"
        return f"{self.code} · {self.words}{check}"

    def as_export(self) -> dict[str, Any]:
        return {"cpt_code": self.code, "words": self.words, "source": self.source, "verified": self.verified}


def _config() -> dict[str, Any]:
    data: dict[str, Any] = load(CPT_FILE)
    for i, rule in enumerate(data["rules"]):
        if rule["code"] not in data["codes"]:
            raise ResourceError(f"resources/{CPT_FILE}: rules[{i}].code: {rule['code']!r} "
                                "is not one of the codes")
    return data


def _local_day(iso: str | None) -> date | None:
    """The reader's local date of a stored UTC time (a clinic bills by its own calendar day)."""
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).astimezone().date()
    except ValueError:
        return None


def _pick(rules: list[dict[str, Any]], first: bool, mt_on_day: bool) -> str | None:
    for rule in rules:
        place = rule["course_session"]
        if place != "any" and place != ("first" if first else "later"):
            continue
        if "mt_on_day" in rule and rule["mt_on_day"] != mt_on_day:
            continue
        return str(rule["code"])
    return None


def _course_codes(db: sqlite_utils.Database, course_id: int, patient_id: int,
                  config: dict[str, Any]) -> dict[int, str | None]:
    """Session id -> code for every session of one course that delivered pulses."""
    delivered = db.execute(
        "SELECT id, started_at FROM sessions WHERE course_id = ? AND pulses_delivered > 0 "
        "ORDER BY started_at, id", [course_id]).fetchall()
    mt_days = {_local_day(r[0]) for r in db.execute(
        "SELECT measured_at FROM motor_thresholds WHERE patient_id = ?", [patient_id])}
    out: dict[int, str | None] = {}
    seen_days: set[date | None] = set()
    for n, (sid, started) in enumerate(delivered):
        day = _local_day(started)
        first_of_day = day not in seen_days
        seen_days.add(day)
        out[int(sid)] = _pick(config["rules"], n == 0, first_of_day and day is not None and day in mt_days)
    return out


def cpt_codes(db: sqlite_utils.Database, session_ids: Iterable[int]) -> dict[int, CptCode | None]:
    """Each session's code; None for one without a course or that delivered no pulses."""
    config = _config()
    ids = list(dict.fromkeys(int(i) for i in session_ids))
    rows: list[tuple[int, int | None, int]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        rows += db.execute(f"SELECT id, course_id, patient_id FROM sessions WHERE id IN ({marks})",
                           chunk).fetchall()
    by_course: dict[int, dict[int, str | None]] = {}
    out: dict[int, CptCode | None] = {i: None for i in ids}
    for sid, course_id, patient_id in rows:
        if course_id is None:
            continue
        if course_id not in by_course:
            by_course[course_id] = _course_codes(db, course_id, patient_id, config)
        code = by_course[course_id].get(sid)
        if code is not None:
            entry = config["codes"][code]
            out[sid] = CptCode(code, entry["words"], entry["source"], bool(config["verified"]))
    return out


def session_cpt(db: sqlite_utils.Database, session_id: int) -> CptCode | None:
    """One session's code (None: no course, or nothing was delivered)."""
    return cpt_codes(db, [session_id]).get(session_id)
