"""Issue 14, items 3 and 9: the handoff note tells no false reassurance and gives no advice without
a source, and it does not go out without the clinic's phone and supervising physician.

Item 3: with last week's PHQ-9 item 9 "nearly every day" and no PHQ-9 today, the note printed
"SAFETY: STABLE – nothing of concern was recorded today". Now the latest item 9 answer is always
printed with its date, suicide risk is never called "stable", and an item 9 above 0 that nobody
is recorded as told of is escalated and "not yet reviewed by a clinician".

Item 9: the shipped "suggested focus" and "emotionally open … good time for new learning" had no
source; they are shipped empty and sourced warnings are printed instead. No note is printed,
saved, copied or written by ``note`` until the clinic phone and the supervising physician are set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from console.clinic import outcomes
from console.clinic.settings import get_setting
from console.demo import build_demo_database
from console.note.assembly import build_note
from console.note.render import render_note
from console.people.admin import create_user
from console.ui.note.note_view import NoteView
from db.database import open_database
from tests.cli.accounts import account

from .recorded import START, add_patient_and_course, add_phq9, make_db, record_session, set_setting

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("txt", "md", "html")
LAST_WEEK = START - timedelta(days=7)
NEARLY_EVERY_DAY = [2, 2, 2, 2, 1, 1, 1, 1, 3]  # item 9 (the last) = 3


def _contacts(db) -> None:
    set_setting(db, "clinic_phone", "555-0142")
    set_setting(db, "supervising_physician", "Dr. Priya Natarajan")


def _session_after_phq9(tmp_path: Path, *phq9: tuple, contacts: bool = True):
    """A course whose session 5 is today (START), with the PHQ-9s given as (taken, items)."""
    db = make_db(tmp_path / "clinic.db")
    patient, course = add_patient_and_course(db)
    if contacts:
        _contacts(db)
    for taken, items in phq9:
        add_phq9(db, patient, course, taken, items)
    session = record_session(db, patient, course, number=5, started=START)
    return db, patient, course, session


def _texts(note) -> dict[str, str]:
    return {fmt: render_note(note, fmt).text for fmt in FORMATS}


def _latest_outcome_id(db) -> int:
    return int(db.execute("SELECT max(id) FROM outcomes").fetchone()[0])


# ---------------------------------------------------------------------------------- item 3


def test_last_weeks_item9_with_nobody_told_is_escalated_not_stable(tmp_path: Path) -> None:
    db, *_, session = _session_after_phq9(tmp_path, (LAST_WEEK, NEARLY_EVERY_DAY))
    note = build_note(db, session)
    s = note.safety
    assert s.level == "escalated"
    assert s.item9 is None and s.item9_latest == 3 and s.item9_raised
    assert "No PHQ-9 taken today." in s.item9_words
    assert "Tue 17 Nov 2026" in s.item9_words and "3 – nearly every day" in s.item9_words
    assert any("not yet reviewed by a clinician" in r and "nobody is recorded as told" in r
               for r in s.other_reasons)
    assert "Thoughts of self-harm were not asked about" in s.today_words
    for fmt, text in _texts(note).items():
        assert "stable" not in text.lower(), fmt
        assert "nothing of concern" not in text.lower(), fmt
        assert "Escalated" in text or "ESCALATED" in text, fmt
        assert "Tue 17 Nov 2026" in text and "nearly every day" in text, fmt
        assert "not yet reviewed by a clinician" in text, fmt
    db.close()


def test_last_weeks_item9_that_someone_was_told_of_stays_on_watch(tmp_path: Path, fast_hasher) -> None:
    db, *_, session = _session_after_phq9(tmp_path, (LAST_WEEK, NEARLY_EVERY_DAY))
    admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
    tech = create_user(db, admin, "jrivera", "Jamie Rivera", "technician", "tech-pass-1")
    outcomes.record_item9_notification(db, tech, _latest_outcome_id(db), "Dr. Priya Natarajan",
                                       told_at=LAST_WEEK + timedelta(minutes=10))
    s = build_note(db, session).safety
    assert s.level == "watch" and s.item9_latest == 3
    assert s.told and s.told[0].startswith("Dr. Priya Natarajan at ")
    assert not any("not yet reviewed" in r for r in s.other_reasons)
    assert "Tue 17 Nov 2026" in s.item9_words
    db.close()


def test_with_nothing_of_concern_the_note_says_what_was_not_asked(tmp_path: Path) -> None:
    db, *_, session = _session_after_phq9(tmp_path)
    note = build_note(db, session)
    s = note.safety
    assert s.level == "none_recorded" and s.level_words == "No concern recorded today"
    assert "No PHQ-9 item 9 answer" in s.item9_words and "is on record" in s.item9_words
    assert s.today_words.startswith("Recorded today: no adverse event, no side effect, no PHQ-9.")
    for fmt, text in _texts(note).items():
        assert "stable" not in text.lower(), fmt
        assert "Recorded today:" in text and "were not asked about" in text, fmt
    db.close()


def test_todays_item9_of_0_is_the_latest_and_last_weeks_is_not_repeated(tmp_path: Path) -> None:
    db, *_, session = _session_after_phq9(
        tmp_path, (LAST_WEEK, NEARLY_EVERY_DAY), (START - timedelta(hours=1), [1] * 8 + [0]))
    s = build_note(db, session).safety
    assert (s.level, s.item9, s.item9_latest) == ("none_recorded", 0, 0)
    assert s.item9_words.startswith("PHQ-9 item 9 (") and "today at" in s.item9_words
    assert "Tue 17 Nov" not in s.item9_words
    db.close()


# ---------------------------------------------------------------------------------- item 9


def test_shipped_guidance_has_no_unsourced_advice_and_cites_each_warning(tmp_path: Path) -> None:
    db, *_, session = _session_after_phq9(tmp_path, (START - timedelta(hours=1), [1] * 9))
    note = build_note(db, session)
    f = note.for_therapist
    assert f.focus == [] and f.reminders == []
    words = " ".join(w.text.lower() for w in f.warnings)
    assert "worsening mood" in words and "suicide" in words and "mania" in words
    assert all(w.source.strip() for w in f.warnings)
    for fmt, text in _texts(note).items():
        assert "emotionally open" not in text and "Suggested focus" not in text, fmt
        assert "Behavioural activation" not in text, fmt
        for w in f.warnings:
            assert w.source in text.replace("&#39;", "'"), fmt
        assert text.count("unverified") == len(f.warnings), fmt
    shipped = json.loads((ROOT / "resources" / "note_guidance.json").read_text(encoding="utf-8"))
    assert all(isinstance(i["verified"], bool) and i["source"] for i in shipped["warnings"]["items"])
    examples = (ROOT / "docs" / "note-guidance-examples.md").read_text(encoding="utf-8")
    assert "emotionally open" in examples and "Behavioural activation" in examples
    db.close()


def _note_command(db_path: Path, session: int, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "note", str(session), "--out", str(out),
                           "--db", str(db_path), *account(db_path)],  # who is asking (issue 15)
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_the_note_command_refuses_until_the_clinic_phone_and_physician_are_set(
    tmp_path: Path, fast_hasher,
) -> None:
    db, *_, session = _session_after_phq9(tmp_path, contacts=False)
    admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
    db_path = tmp_path / "clinic.db"
    out = tmp_path / "note.txt"
    refused = _note_command(db_path, session, out)
    assert refused.returncode == 2 and not out.exists()
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.stderr
    assert "Clinic phone for questions" in lines[0] and "Supervising physician" in lines[0]
    assert "settings set clinic_phone" in lines[0]

    # The place the message names: the settings command, by an admin with their password.
    def settings_set(key: str, value: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "settings", "set", key, value, "--admin", admin.username,
             "--password-stdin", "--db", str(db_path)],
            input="admin-pass-1\n", capture_output=True, text=True, timeout=60, cwd=ROOT)

    assert settings_set("clinic_phone", "555-0142").returncode == 0
    still = _note_command(db_path, session, out)
    assert still.returncode == 2 and "Supervising physician" in still.stderr
    assert "Clinic phone" not in still.stderr and not out.exists()
    done = settings_set("supervising_physician", "Dr. Priya Natarajan")
    assert done.returncode == 0, done.stderr
    assert get_setting(db, "supervising_physician") == "Dr. Priya Natarajan"
    written = _note_command(db_path, session, out)
    assert written.returncode == 0, written.stderr
    assert "555-0142" in out.read_text(encoding="utf-8")
    db.close()


def test_the_note_view_shows_the_refusal_and_nothing_leaves_the_screen(tmp_path: Path, qtbot) -> None:
    db, *_, session = _session_after_phq9(tmp_path, contacts=False)
    view = NoteView(build_note(db, session))
    qtbot.addWidget(view)
    assert view.problem_label.isVisibleTo(view)
    assert "cannot be printed" in view.problem_label.text()
    assert "Supervising physician" in view.problem_label.text()
    for button in (view.print_button, view.save_button, view.copy_button):
        assert not button.isEnabled()
    QGuiApplication.clipboard().setText("before")
    assert view.copy_text() == "" and QGuiApplication.clipboard().text() == "before"
    assert "cannot be printed" in view.status.text()
    with pytest.raises(PermissionError):
        view.save_pdf(tmp_path / "note.pdf")
    assert not (tmp_path / "note.pdf").exists()
    view.grab().save(str(tmp_path / "refused.png"))
    db.close()


def test_the_demo_database_sets_the_clinic_phone_and_physician(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    assert build_demo_database(path, patients=()) == []
    db = open_database(path)
    assert get_setting(db, "clinic_phone") and get_setting(db, "supervising_physician")
    db.close()
