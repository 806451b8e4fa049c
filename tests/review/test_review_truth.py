"""The review tells the truth (issue 20: items 10, 13, 14, 15, 16, 20), through the real widgets offscreen.

A small clinic file written as the session engine writes one (tests/note/recorded.py): a course
targeted by the 5.5 cm rule (no target pose: the coil was not tracked), sessions recorded by a
technician whose account has a full name, a supervisor who signs.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlite_utils
from pypdf import PdfReader
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog

from console.people.admin import create_user
from console.people.user import User
from console.review.detail import load_detail
from console.review.export import session_export
from console.review.signoff import is_signed
from console.ui.review.review_html import events_html, flags_html, summary_html
from console.ui.review.review_queue import COLUMNS
from console.ui.review.review_window import ReviewWindow
from console.ui.review.session_report_pdf import report_html
from tests.note.recorded import START, add_patient_and_course, make_db, record_session

SUPER_PASSWORD = "super-pass-1"
PORT_TEXT = ("the port was closed or unplugged (device reports readiness to read but returned no data "
             "(device disconnected or multiple access on port?))")
PROTOCOL = {"burst": 1, "freq_hz": 10.0, "iti_s": 26.0, "name": "10 Hz rTMS left DLPFC",
            "pulses_per_train": 40, "trains": 75}


class Clinic:
    def __init__(self, db: sqlite_utils.Database, sessions: list[int], supervisor: User) -> None:
        self.db, self.sessions, self.supervisor = db, sessions, supervisor


@pytest.fixture
def clinic(tmp_path: Path, fast_hasher) -> Clinic:
    db = make_db(tmp_path / "clinic.db")
    patient, course = add_patient_and_course(db)
    db.execute("UPDATE courses SET targeting_method = '5.5 cm rule' WHERE id = ?", [course])
    db.conn.commit()
    admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
    create_user(db, admin, "jrivera", "Jamie Rivera", "technician", "tech-pass-1")
    supervisor = create_user(db, admin, "sue", "Dr. Sue Super", "supervisor", SUPER_PASSWORD)
    events = [
        ("armed", "console", {"commanded": True}),
        ("protocol", None, PROTOCOL),
        ("intensity", None, {"mso": 62, "percent_mt": 119.2, "prescribed_mso": 62}),
        ("command", "SET", {"args": [62], "outcome": "sent"}),
        ("run_started", "train", {"started_at": "console"}),
        ("device_lost", None, {"reason": PORT_TEXT}),
        ("device_restored", None, None),
        ("note", None, {"text": "Coil slipped; repositioned at the mark."}),
    ]
    sessions = [record_session(db, patient, course, number=n, started=START + timedelta(days=n),
                               technician="jrivera", events=events) for n in (1, 2, 3)]
    yield Clinic(db, sessions, supervisor)
    db.close()


def _window(qtbot, clinic: Clinic) -> ReviewWindow:
    w = ReviewWindow(clinic.db, clinic.supervisor)
    qtbot.addWidget(w)
    w.show()
    return w


def _sign_shown_session(qtbot, w: ReviewWindow) -> int:
    assert w.detail.detail is not None
    sid = w.detail.detail.session["id"]
    dialog = w.detail.open_sign_off()
    assert dialog is not None
    dialog.choose("approved")
    dialog.password.setText(SUPER_PASSWORD)
    with qtbot.waitSignal(w.detail.changed, timeout=10_000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    return sid


# --- 13: a signed session leaves "To review" ---------------------------------------------------------

def test_a_signed_session_leaves_the_to_review_list_and_the_next_one_is_shown(qtbot, clinic) -> None:
    w = _window(qtbot, clinic)
    assert w.model.rowCount() == 3
    signed = _sign_shown_session(qtbot, w)
    assert is_signed(clinic.db, signed)
    qtbot.waitUntil(lambda: w.model.row_of(signed) is None, timeout=10_000)
    assert w.model.rowCount() == 2
    assert w.count.text().startswith("2 sessions to review")
    shown = w.detail.detail
    assert shown is not None and shown.session["id"] != signed and not shown.signed
    assert w.detail.sign_button.isEnabled()


def test_after_signing_sign_off_is_not_offered_again_to_the_signer(qtbot, clinic) -> None:
    w = _window(qtbot, clinic)
    w.apply_filter(w.filters.current().__class__(review="all"))
    signed = _sign_shown_session(qtbot, w)
    # The list of all sessions still holds it: it stays chosen, with its signature and no Sign off.
    assert w.model.row_of(signed) is not None
    assert w.detail.detail is not None and w.detail.detail.session["id"] == signed
    assert "Approved by Dr. Sue Super" in w.detail.signature.text()
    assert not w.detail.sign_button.isEnabled()
    assert "signed" in w.detail.sign_button.toolTip()


def test_signing_the_last_one_leaves_an_empty_list_with_nothing_to_sign(qtbot, clinic) -> None:
    w = _window(qtbot, clinic)
    for _ in range(3):
        _sign_shown_session(qtbot, w)
    assert w.model.rowCount() == 0
    assert w.detail.detail is None and not w.detail.sign_button.isEnabled()
    assert "Nothing left to review" in w.detail.title.text()


def test_a_wrong_password_at_sign_off_speaks_of_the_password_only(qtbot, clinic) -> None:
    w = _window(qtbot, clinic)
    dialog = w.detail.open_sign_off()
    assert dialog is not None
    dialog.password.setText("not her password")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    error = dialog.error.text().lower()
    assert "password" in error and "user name" not in error
    dialog.reject()


# --- 16: people by their full names -----------------------------------------------------------------

def test_the_review_and_the_report_name_people_by_their_full_name(qtbot, clinic) -> None:
    w = _window(qtbot, clinic)
    _sign_shown_session(qtbot, w)
    d = load_detail(clinic.db, clinic.sessions[0])
    assert "technician Jamie Rivera" in w.detail.subtitle.text()
    record = w.detail.record.toPlainText()
    events = w.detail.events.toPlainText()
    assert "Jamie Rivera" in record and "Jamie Rivera" in events
    report = report_html(d)
    assert "technician Jamie Rivera" in report
    for text in (w.detail.subtitle.text(), record, events, report):
        assert "jrivera" not in text and "technician technician" not in text
    history = w.detail.history.toPlainText() if w.detail.detail else ""
    assert "(supervisor, sue)" not in history


# --- 10: the coil position not tracked --------------------------------------------------------------

def test_a_course_without_a_tracked_target_says_so_in_the_review_report_and_export(qtbot, clinic) -> None:
    w = _window(qtbot, clinic)
    flags = w.detail.flags.text()
    assert "not tracked" in flags and "5.5 cm rule" in flags
    d = load_detail(clinic.db, clinic.sessions[0])
    assert not d.coil_tracked
    assert "On target" in summary_html(d) and "not tracked" in summary_html(d)
    assert "not tracked" in flags_html(d)
    assert "coil position was not tracked" in report_html(d)
    session = session_export(clinic.db, clinic.sessions[0])["session"]
    assert session["coil_position_tracked"] is False and session["targeting_method"] == "5.5 cm rule"


def test_the_printed_report_says_the_coil_was_not_tracked(qtbot, clinic, tmp_path: Path) -> None:
    w = _window(qtbot, clinic)
    out = tmp_path / "report.pdf"
    w.write_report(clinic.sessions[0], out)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(str(out)).pages).split())
    assert "coil position was not tracked" in text
    assert "No problems flagged" not in text


def test_a_tracked_session_says_nothing_of_the_kind(flag_db) -> None:
    d = load_detail(flag_db.db, flag_db.ids["clean"])
    assert d.coil_tracked and d.tracking_words is None
    assert "not tracked" not in flags_html(d) + summary_html(d)
    assert session_export(flag_db.db, flag_db.ids["clean"])["session"]["coil_position_tracked"] is True


# --- 15: plain words in the event log ---------------------------------------------------------------

def test_the_event_log_is_in_plain_words_with_technical_words_apart(qtbot, clinic) -> None:
    d = load_detail(clinic.db, clinic.sessions[0])
    html = events_html(d)
    for raw in ("commanded", "True", "iti s", "freq hz", "percent mt", "pulses per train", "started at:"):
        assert raw not in html, raw
    assert "75 trains of 40 pulses at 10 Hz, 26 s between trains" in html
    assert "Device made ready to stimulate from the console" in html
    assert "Connection to the device lost" in html
    # The port's own words stay available, on the secondary line, not in the sentence.
    _, _, technical = html.partition("Connection to the device lost")
    assert "the port was closed" in technical.split("</td>")[0]
    assert "class='tech'" in technical.split("</td>")[0]


# --- 14 and 20: exports say where they went, and start in the Documents folder -----------------------

def test_the_report_dialog_opens_in_documents_not_the_working_folder_and_says_where_it_saved(
        qtbot, clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.ui.note import save_place  # new with the fix: inside, so the other tests run without it

    save_place.forget()
    asked: list[str] = []
    chosen = tmp_path / "chosen"
    chosen.mkdir()

    def fake_dialog(parent, title, suggested, pattern):
        asked.append(suggested)
        return str(chosen / Path(suggested).name), pattern

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    monkeypatch.chdir(tmp_path)
    w = _window(qtbot, clinic)
    sid = w.detail.detail.session["id"]
    w.detail.report_button.click()
    report = chosen / f"session-{sid}-report.pdf"
    assert report.exists()
    assert Path(asked[0]).parent == save_place.documents_folder()
    assert Path(asked[0]).parent != Path.cwd()
    assert str(report) in w.done.text()
    w.detail.json_button.click()  # the next export opens where the last one went
    assert Path(asked[1]).parent == chosen
    exported = chosen / f"session-{sid}.json"
    assert str(exported) in w.done.text()
    assert json.loads(exported.read_text())["session"]["coil_position_tracked"] is False
    save_place.forget()


def test_the_device_lost_flag_keeps_the_port_s_own_words_out_of_the_reason(clinic) -> None:
    d = load_detail(clinic.db, clinic.sessions[0])
    lost = next(f for f in d.flags if f.code == "device_lost")
    assert lost.reason.startswith("connection lost 1 time(s)")
    assert "port" not in lost.reason and "multiple access" not in lost.reason


def test_the_queue_names_the_technician_by_full_name(qtbot, clinic) -> None:
    w = _window(qtbot, clinic)
    column = next(i for i, c in enumerate(COLUMNS) if c[1] == "technician")
    assert w.model.data(w.model.index(0, column)) == "Jamie Rivera"


def test_the_audit_history_shows_an_entry_s_fields_not_its_raw_structure(qtbot, clinic) -> None:
    from console.people.user import get_user
    from console.session.entries import add_checklist, add_observation

    tech = get_user(clinic.db, "jrivera")
    assert tech is not None
    sid = clinic.sessions[0]
    add_checklist(clinic.db, tech, sid, [{"id": "metal_removed", "question": "All metal removed?",
                                          "answer": "yes", "note": ""}])
    add_observation(clinic.db, tech, sid, mood="settled", patient_said="Easier today.")
    w = _window(qtbot, clinic)
    w.queue.select_session(sid)
    history = w.detail.history.toPlainText()
    assert "Jamie Rivera" in history and "mood: settled" in history
    for raw in ("{", "[", "'answer'", "detail:"):
        assert raw not in history, raw


def test_a_long_saved_path_does_not_widen_the_review_window(qtbot, clinic) -> None:
    w = _window(qtbot, clinic)
    before = w.minimumSizeHint().width()
    long_path = "/home/sue/Documents/" + "AVeryLongFolderNameWithoutBreaks" * 6 + "/report.pdf"
    assert w._run(lambda: None, done=f"Session report saved as {long_path}")
    assert long_path in w.done.text()
    w.centralWidget().layout().activate()
    assert w.minimumSizeHint().width() <= before


def test_the_sign_off_dialog_opens_wide_enough_to_read_what_the_signature_means(qtbot, qapp, clinic) -> None:
    from console.ui.widgets.theme import apply_style

    apply_style(qapp)  # the program's look (its larger type), as at the clinic
    try:
        _dialog_fits(qtbot, clinic)
    finally:
        qapp.setStyleSheet("")


def _dialog_fits(qtbot, clinic) -> None:
    w = _window(qtbot, clinic)
    dialog = w.detail.open_sign_off()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    dialog.layout().activate()
    for button in dialog.meanings.buttons():  # each meaning lies wholly inside the dialog
        right = button.mapTo(dialog, button.rect().topRight()).x()
        assert right <= dialog.width() and button.width() >= button.sizeHint().width(), button.text()
    dialog.reject()
