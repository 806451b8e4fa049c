"""Sign-off from the review screen: the password is needed, a signed session is locked, addenda are signed."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from console.audit import history, verify
from console.errors import ClinicError
from console.note.assembly import build_note
from console.review.detail import load_detail
from console.review.queue import ReviewFilter, find_sessions, rows_for
from console.review.signoff import is_signed, sign_session, signatures_for
from console.safety.adverse_event import record_adverse_event
from console.session.entries import add_observation, add_side_effect
from console.ui.review.session_detail import SessionDetailWidget
from console.ui.review.signoff_dialog import AddendumDialog, SignOffDialog

from .flag_db import PASSWORDS


def press_ok(dialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def closes(dialog) -> list[int]:
    """Collects the dialog's result when it closes (it is deleted soon after)."""
    results: list[int] = []
    dialog.finished.connect(results.append)
    return results


def detail_widget(qtbot, flag_db, user: str, session: str) -> SessionDetailWidget:
    widget = SessionDetailWidget(flag_db.db, flag_db.user(user))
    qtbot.addWidget(widget)
    widget.show_session(flag_db.ids[session])
    return widget


def test_signing_needs_the_password_and_a_wrong_one_signs_nothing(qtbot, flag_db) -> None:
    widget = detail_widget(qtbot, flag_db, "sue", "drift")
    sid = flag_db.ids["drift"]
    assert widget.sign_button.isEnabled() and "Not signed" in widget.signature.text()
    dialog = widget.open_sign_off()
    assert isinstance(dialog, SignOffDialog) and dialog.isVisible()
    closed = closes(dialog)
    press_ok(dialog)  # no password typed
    assert "password" in dialog.error.text().lower() and dialog.isVisible()
    dialog.password.setText("not her password")
    press_ok(dialog)
    assert dialog.error.text() and dialog.isVisible() and dialog.password.text() == ""
    assert not is_signed(flag_db.db, sid)
    dialog.choose("approved")
    dialog.comment.setPlainText("Drift at 40 % of the run; corrected by the technician.")
    dialog.password.setText(PASSWORDS["sue"])
    with qtbot.waitSignal(widget.changed, timeout=10_000) as changed:
        press_ok(dialog)
    assert changed.args == [sid] and closed == [1]
    [sig] = signatures_for(flag_db.db, sid)
    assert (sig.signer_name, sig.meaning, sig.comment) == (
        "Dr. Sue Super", "approved", "Drift at 40 % of the run; corrected by the technician.")
    banner = widget.signature.text()
    assert "Approved by Dr. Sue Super" in banner and "locked" in banner
    assert sid not in find_sessions(flag_db.db).ids  # off the queue
    actions = [r["action"] for r in history(flag_db.db, "session", sid)]
    assert "sign_session" in actions and verify(flag_db.db).ok


def test_a_technician_cannot_sign_from_the_screen_or_around_it(qtbot, flag_db) -> None:
    widget = detail_widget(qtbot, flag_db, "tom", "clean")
    assert not widget.sign_button.isEnabled()
    assert widget.addendum_button.isEnabled()  # a technician may add an addendum
    with pytest.raises(PermissionError):
        sign_session(flag_db.db, flag_db.user("tom"), flag_db.ids["clean"], PASSWORDS["tom"], "reviewed")
    assert not is_signed(flag_db.db, flag_db.ids["clean"])


def test_a_signed_session_refuses_edits(flag_db) -> None:
    db, sid = flag_db.db, flag_db.ids["noise"]
    tom = flag_db.user("tom")
    add_side_effect(db, tom, sid, "headache", 3)  # before sign-off: still open for entries
    sign_session(db, flag_db.user("sue"), sid, PASSWORDS["sue"], "reviewed")
    before = load_detail(db, sid)
    assert before.record_unchanged is True
    with pytest.raises(ClinicError, match="signed and is locked: add an addendum"):
        add_side_effect(db, tom, sid, "headache", 9)
    with pytest.raises(ClinicError, match="signed and is locked: add an addendum"):
        add_observation(db, tom, sid, patient_said="It was fine")
    patient = db.execute("SELECT patient_id FROM sessions WHERE id = ?", [sid]).fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError, match="signed and locked"):
        record_adverse_event(db, tom, patient, "syncope", "after the session", session_id=sid)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE sessions SET end_reason = 'edited' WHERE id = ?", [sid])
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM session_events WHERE session_id = ?", [sid])
    after = load_detail(db, sid)
    assert after.record_unchanged is True and len(after.events) == len(before.events)
    assert [e["detail"]["rating"] for e in after.entries["side_effect"]] == [3]


def test_addenda_appear_with_their_signatures(qtbot, flag_db) -> None:
    db, sid = flag_db.db, flag_db.ids["overheat"]
    widget = detail_widget(qtbot, flag_db, "tom", "overheat")
    # Before sign-off an addendum needs no password and carries no signature of its own.
    dialog = widget.open_addendum()
    assert isinstance(dialog, AddendumDialog) and not dialog.needs_password
    closed = closes(dialog)
    dialog.text.setPlainText("Coil swapped for the spare after the fault.")
    press_ok(dialog)
    assert closed == [1]
    assert sid in find_sessions(db).ids  # an addendum is not a sign-off: still in the queue
    sign_session(db, flag_db.user("sue"), sid, PASSWORDS["sue"], "reviewed", "Fault handled")
    widget.show_session(sid)
    # After: the author signs it with the password.
    dialog = widget.open_addendum()
    assert dialog.needs_password
    closed = closes(dialog)
    dialog.text.setPlainText("Patient called: headache in the evening, gone by morning.")
    press_ok(dialog)
    assert "password" in dialog.error.text().lower() and closed == []
    dialog.password.setText(PASSWORDS["tom"])
    press_ok(dialog)
    assert closed == [1]
    d = load_detail(db, sid)
    first, second = d.addenda
    assert first["signature"] is None and first["by_user"] == "tom"
    assert (second["signature"].signer_name, second["signature"].meaning) == ("Tom Tech", "authored")
    history_html = widget.history.toHtml()
    assert "Coil swapped for the spare" in history_html and "Written before sign-off" in history_html
    assert "Signed: Authored by Tom Tech" in widget.history.toPlainText()
    assert "Reviewed by Dr. Sue Super" in widget.history.toPlainText()
    actions = [r["action"] for r in history(db, "session", sid)]
    assert actions.count("add_addendum") == 2 and "sign_session" in actions
    row = rows_for(db, find_sessions(db, ReviewFilter(review="signed")), 0, 1)[0]
    assert row.addenda == 2 and row.review_words.startswith("Reviewed by Dr. Sue Super")
    assert d.record_unchanged is True  # addenda are not part of the signed record


def test_the_handoff_note_carries_the_signature(qtbot, flag_db) -> None:
    sid = flag_db.ids["clean"]
    sign_session(flag_db.db, flag_db.user("sam"), sid, PASSWORDS["sam"], "approved")
    assert build_note(flag_db.db, sid).review.status_words.startswith("Approved by Dr. Sam Second")
    widget = detail_widget(qtbot, flag_db, "sam", "clean")
    widget.tabs.setCurrentIndex(widget.tabs.count() - 1)
    assert "Dr. Sam Second" in widget.note.toPlainText()
