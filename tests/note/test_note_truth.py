"""The handoff note tells the truth (issue 20: items 14, 16, 20): the technician by name, no "since last
time" at a first session, and Save as PDF / Copy as text say what they did, saving in Documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtWidgets import QFileDialog

from console.note.assembly import build_note
from console.note.render import render_note
from console.people.admin import create_user
from console.ui.note.note_pdf import write_pdf
from console.ui.note.note_view import NoteView

from .recorded import (
    CHECKLIST,
    START,
    Recorded,
    add_patient_and_course,
    make_db,
    record_session,
    set_setting,
)


@pytest.fixture
def first_session(tmp_path: Path, fast_hasher) -> Recorded:
    """Session 1 of a course, recorded by an account with a full name, with its checklist."""
    db = make_db(tmp_path / "first.db")
    admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
    create_user(db, admin, "jrivera", "Jamie Rivera", "technician", "tech-pass-1")
    patient, course = add_patient_and_course(db)
    for key, value in (("clinic_phone", "555-0142"), ("supervising_physician", "Dr. Priya Natarajan")):
        set_setting(db, key, value)  # a note goes out only with both (issue 14, item 9)
    session = record_session(db, patient, course, number=1, started=START, technician="jrivera",
                             events=[("checklist", None, CHECKLIST)])
    yield Recorded(db, patient, course, session)
    db.close()


def test_a_first_session_is_not_said_to_follow_a_last_time(first_session: Recorded) -> None:
    note = build_note(first_session.db, first_session.session_id)
    assert note.today.changes  # the checklist's answers are still shown
    for fmt in ("html", "md", "txt"):
        text = render_note(note, fmt).text
        assert "Since last time" not in text, fmt
        assert "Before this first session" in text, fmt


def test_a_later_session_still_says_since_last_time(recorded: Recorded) -> None:
    note = build_note(recorded.db, recorded.session_id)
    assert "Since last time:" in render_note(note, "txt").text


def test_the_note_names_the_technician_by_full_name(first_session: Recorded, qtbot, tmp_path: Path) -> None:
    note = build_note(first_session.db, first_session.session_id)
    assert note.technician == "Jamie Rivera"
    for fmt in ("html", "md", "txt"):
        text = render_note(note, fmt).text
        assert "Jamie Rivera" in text and "jrivera" not in text, fmt
    out = tmp_path / "note.pdf"
    write_pdf(note, out)
    printed = " ".join(PdfReader(str(out)).pages[0].extract_text().split())
    assert "Jamie Rivera" in printed and "jrivera" not in printed


def test_save_as_pdf_opens_in_documents_and_says_where_it_saved(
        first_session: Recorded, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.ui.note import save_place  # new with the fix: inside, so the other tests run without it

    save_place.forget()
    asked: list[str] = []
    chosen = tmp_path / "notes"
    chosen.mkdir()

    def fake_dialog(parent, title, suggested, pattern):
        asked.append(suggested)
        return str(chosen / Path(suggested).name), pattern

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    monkeypatch.chdir(tmp_path)  # the program's working folder is never where a note lands
    view = NoteView.for_session(first_session.db, first_session.session_id)
    qtbot.addWidget(view)
    view.show()
    assert view.status.text() == ""
    view.save_button.click()
    assert Path(asked[0]).parent == save_place.documents_folder() != Path.cwd()
    saved = chosen / Path(asked[0]).name
    assert saved.exists()
    assert f"Saved as {saved}" in view.status.text() and view.status.isVisible()
    view.save_button.click()  # the next one opens where the last one went
    assert Path(asked[1]).parent == chosen
    save_place.forget()


def test_copy_as_text_says_it_was_copied(first_session: Recorded, qtbot) -> None:
    view = NoteView.for_session(first_session.db, first_session.session_id)
    qtbot.addWidget(view)
    view.show()
    with qtbot.waitSignal(view.copied, timeout=5000):
        view.copy_button.click()
    assert "copied" in view.status.text().lower() and view.status.isVisible()


def test_a_failed_save_says_so_in_plain_words(first_session: Recorded, qtbot, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "no-such-folder" / "note.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a: (str(target), "PDF (*.pdf)")))
    view = NoteView.for_session(first_session.db, first_session.session_id)
    qtbot.addWidget(view)
    view.save_button.click()
    problem = view.problem_label.text()
    assert "could not be saved" in problem and "Errno" not in problem and view.status.text() == ""


def test_a_long_saved_path_does_not_widen_the_note_window(first_session: Recorded, qtbot,
                                                         tmp_path: Path) -> None:
    view = NoteView.for_session(first_session.db, first_session.session_id)
    qtbot.addWidget(view)
    view.show()
    before = view.minimumSizeHint().width()
    deep = tmp_path / ("AVeryLongFolderNameWithoutBreaks" * 6)
    deep.mkdir()
    view.save_pdf(deep / "handoff-note.pdf")
    assert str(deep) in view.status.text()
    assert view.minimumSizeHint().width() <= before
