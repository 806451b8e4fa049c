"""Plain text and Markdown carry the same facts as the printed note."""

from __future__ import annotations

import pytest

from console.note.assembly import build_note
from console.note.render import markdown_escape, render_note
from console.people.user import User
from console.review.signoff import sign_session

from .conftest import SUPERVISOR_PASSWORD
from .recorded import Recorded

FACTS = [
    "MRN-20417", "A.B.", "Tue 24 Nov 2026", "Session 12 of 36", "Acute course", "day 16",
    "Jamie Rivera", "Dr. Priya Natarajan", "555-0142",
    "Completed", "Intermittent theta burst stimulation at the left prefrontal target",
    "120 % of motor threshold", "600 of 600", "3 min 12 s", "09:30 paused: Patient asked to pause",
    "Medication changed (Sertraline raised to 100 mg on Friday)",
    "Headache", "3/10", "mild, left side", "Scalp discomfort", "2/10",
    "19 → 11: down 42 % from baseline", "50 % of baseline (9.5)", "below 5",
    "I went for a walk with my sister on Sunday, first time in weeks.",
    "Getting back to the Tuesday choir", "Mood: Tired.",
    "Watch for", "unverified", "then call the supervising physician now", "Recorded today:",
    "Not yet reviewed", "PHQ-9 item 9",
]


@pytest.mark.parametrize("fmt", ["txt", "md", "html"])
def test_every_format_carries_the_facts(recorded: Recorded, fmt: str) -> None:
    text = render_note(build_note(recorded.db, recorded.session_id), fmt).text
    if fmt == "html":
        text = text.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    missing = [fact for fact in FACTS if fact not in text]
    assert not missing


@pytest.mark.parametrize("fmt", ["txt", "md"])
def test_signature_in_text_formats(recorded: Recorded, supervisor: User, fmt: str) -> None:
    sign_session(recorded.db, supervisor, recorded.session_id, SUPERVISOR_PASSWORD, "approved")
    note = build_note(recorded.db, recorded.session_id)
    text = render_note(note, fmt).text
    sig = note.review.signatures[0]
    assert "Not yet reviewed" not in text
    assert "Approved" in text and "Dr. Priya Natarajan" in text and sig.signed_at in text


def test_markdown_keeps_the_patients_characters_literal() -> None:
    assert markdown_escape("*very* tired_today [ok] <3") == r"\*very\* tired\_today \[ok\] \<3"


def test_html_escapes_what_people_typed(recorded: Recorded) -> None:
    recorded.db["session_events"].insert({
        "session_id": recorded.session_id, "at": "2026-11-24T09:40:00.000+00:00", "kind": "observation",
        "detail": '{"patient_said": "<b>not bold</b> & fine"}', "by_user": "jrivera"})
    html = render_note(build_note(recorded.db, recorded.session_id), "html").text
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp; fine" in html
