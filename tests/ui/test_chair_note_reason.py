"""A reason asked after Pause or Stop (issue 20, item 1) reaches the handoff note: the pause
line and the outcome say it, linked to its press; a reason left blank adds nothing made up."""

from __future__ import annotations

import json

from console.note.sections import interruption_lines, later_reason
from console.note.words import Guidance

PRESS = "2026-12-07T10:32:05.120+00:00"


def _event(kind: str, code: str | None, detail: dict, at: str = PRESS) -> dict:
    return {"kind": kind, "code": code, "detail": json.dumps(detail), "at": at}


def test_the_pause_line_says_the_reason_given_afterwards() -> None:
    events = [
        _event("pause", None, {"source": "console"}),
        _event("reason", "pause", {"reason": "Patient asked to pause", "given": True, "pressed_at": PRESS},
               at="2026-12-07T10:32:09.000+00:00"),
    ]
    [line] = interruption_lines(events, Guidance.load())
    assert line.endswith("paused: Patient asked to pause"), line


def test_a_reason_not_given_adds_nothing_and_belongs_to_its_own_press() -> None:
    events = [
        _event("reason", "stopped", {"reason": "not given", "given": False, "pressed_at": PRESS}),
        _event("reason", "pause", {"reason": "Discomfort", "given": True,
                                   "pressed_at": "2026-12-07T10:40:00.000+00:00"}),
    ]
    assert later_reason(events, "stopped") == ""
    assert later_reason(events, "pause", PRESS) == ""  # another press's reason is not this one's
    assert later_reason(events, "pause") == "Discomfort"
