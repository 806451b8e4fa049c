"""The note's section rules work on plain values, with no database: the split of content from assembly.

Each rule gets the rows ``build_note`` would read and the clinic's guidance; a
clinic's wording or thresholds change what the note says without a database
in sight, and the module that reads the record stays the only one that does.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from console.note import sections
from console.note.content import Header
from console.note.words import Guidance

NOTE_PACKAGE = Path(__file__).resolve().parents[2] / "console" / "note"

GUIDANCE = Guidance({
    "safety": {"watch_side_effect_rating": 6, "levels": {"watch": "Keep an eye", "escalated": "Call now"},
               "item9_question": "self-harm", "item9_answers": ["no", "some", "many", "all"]},
    "changes_since_last_time": {"medication_change": {"yes": "Medication changed"}, "sleep_change": {}},
})


def event(kind: str, detail: Any = None, code: str | None = None, at: str = "2026-11-24T09:30:00+00:00"
          ) -> dict[str, Any]:
    return {"kind": kind, "code": code, "at": at,
            "detail": None if detail is None else json.dumps(detail)}


def session_row(**values: Any) -> dict[str, Any]:
    row = {"id": 7, "status": "completed", "pulses_delivered": 600, "pulses_planned": 600, "end_reason": None,
           "protocol": None, "percent_mt": 120.0, "started_at": "2026-11-24T09:00:00+00:00",
           "duration_s": 190.0}
    return row | values


def test_safety_level_follows_the_clinics_rules_on_plain_values() -> None:
    effects = sections.side_effects_section(
        [event("side_effect", {"kind": "headache", "rating": 6})], GUIDANCE, {"headache": "Headache"})
    watch = sections.safety_section([], effects, None, None, [], GUIDANCE)
    assert (watch.level, watch.level_words) == ("watch", "Keep an eye")
    assert watch.other_reasons == ["Side effect rated headache 6/10."]
    assert watch.told == ["Not recorded in the console."]  # never silent about who was told
    escalated = sections.safety_section(
        [event("adverse_event", {"description": "fainted briefly"}, code="syncope")], [], 2, "09:40",
        ["Dr X at 09:45"], GUIDANCE)
    assert escalated.level == "escalated"
    assert escalated.adverse_events[0].endswith("syncope: fainted briefly.")
    assert escalated.item9_words == "PHQ-9 item 9 (self-harm) today at 09:40: 2 – many."
    quiet = sections.safety_section([], [], 0, "09:40", [], GUIDANCE)
    assert (quiet.level, quiet.level_words) == ("none_recorded", "No concern recorded today")


def test_today_words_a_short_session_and_unphrased_checklist_answers() -> None:
    checklist = event("checklist", {"answers": {"medication_change": "yes",
                                                "sleep_change": {"answer": False, "note": "slept 9 h"}}})
    today = sections.today_section(
        session_row(status="aborted", pulses_delivered=300, end_reason="patient asked to stop"), None,
        [checklist], GUIDANCE, {"sleep_change": "Sleep changed a lot?"})
    assert (today.outcome, today.outcome_words) == ("partial", "Stopped early: patient asked to stop")
    assert [(c.words, c.note) for c in today.changes] == [
        ("Medication changed", ""), ("Sleep changed a lot?: no", "slept 9 h")]


def test_trajectory_uses_the_response_rule_it_is_given() -> None:
    rows = [{"taken_at": "2026-11-01T09:00:00+00:00", "total": 20},
            {"taken_at": "2026-11-20T09:00:00+00:00", "total": 13}]
    header = Header("", "", "", "P1", "A.B.", 7, "", 12, 36, "acute", "Acute", 19)
    assert not sections.trajectory_section(rows, header, (50.0, 4)).response_reached
    clinic_rule = sections.trajectory_section(rows, header, (35.0, 4))
    assert clinic_rule.response_reached and clinic_rule.response_line == 13.0
    assert clinic_rule.sessions_remaining == 24


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_assembly_and_sources_read_the_record_and_each_module_is_short() -> None:
    readers = {p.name for p in NOTE_PACKAGE.glob("*.py")
               if {"sqlite_utils", "sqlite3"} & _imported_modules(p)}
    assert readers == {"assembly.py", "sources.py"}
    for path in NOTE_PACKAGE.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 500, path.name
