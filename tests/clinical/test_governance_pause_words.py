"""Issue 14, item 10: pause reasons in plain words (no raw codes like COIL_OVERTEMP) at the chair,
in the note and in the review. The code stays in the fault event, for a service engineer."""

from __future__ import annotations

import json

from console.note.sections import interruption_lines
from console.note.words import Guidance
from console.review.event_words import event_words
from devices import events as ev
from tests.engine.feed import Feed


def test_a_fault_pause_is_said_in_plain_words_at_the_chair_and_in_the_record() -> None:
    f = Feed()
    f.rec.start(f.h)
    f.status("RUNNING")
    f.send(ev.Fault(f.t, f.h, "COIL_OVERTEMP", None))
    f.status("FAULT")
    reason = f.rec.snapshot().pause_reason
    assert reason is not None and "COIL_OVERTEMP" not in reason and "coil became too warm" in reason
    [detail] = f.detail("pause")
    assert "COIL_OVERTEMP" not in detail["reason"]
    assert f.kinds("fault") == [("fault", "COIL_OVERTEMP")]  # the code kept for the engineer


def test_an_unknown_fault_code_is_never_shown_to_people() -> None:
    f = Feed()
    f.rec.start(f.h)
    f.status("RUNNING")
    f.send(ev.Fault(f.t, f.h, "ERR_0x3F", None))
    f.status("FAULT")
    assert "ERR_0x3F" not in (f.rec.snapshot().pause_reason or "")


def _old_pause() -> dict:
    """A pause as recorded before: its reason the raw code."""
    return {"kind": "pause", "code": None, "at": "2026-03-02T09:40:00+00:00",
            "detail": json.dumps({"reason": "device fault COIL_OVERTEMP", "source": "device"})}


def test_the_note_says_an_older_records_fault_pause_in_plain_words() -> None:
    [line] = interruption_lines([_old_pause()], Guidance.load())
    assert "COIL_OVERTEMP" not in line and "coil became too warm" in line


def test_the_review_says_a_fault_pause_in_plain_words() -> None:
    event = _old_pause() | {"detail": json.loads(_old_pause()["detail"])}
    words = event_words(event)
    assert "COIL_OVERTEMP" not in words.text and "coil became too warm" in words.text
