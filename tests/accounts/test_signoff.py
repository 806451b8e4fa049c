"""Sign-off: only a supervisor, with the password again, on an ended session; addenda after."""

from __future__ import annotations

import sqlite3

import pytest

from console.audit import history, verify
from console.people.admin import set_active
from console.people.permissions import PermissionDenied
from console.people.user import AuthError
from console.review import signoff
from console.review.signoff import SignOffError, add_addendum, is_signed, sign_session, signatures_for
from tests.accounts.conftest import PASSWORDS, add_session, dump

WHO = "a supervisor or a physician can"  # who may sign, said in every refusal (issue 14, item 7)


def failed_count(db, username: str) -> int:
    return db.execute("SELECT failed_attempts FROM users WHERE username = ?", [username]).fetchone()[0]


def test_a_technician_cannot_sign_even_with_the_right_password_and_nothing_is_written(db, people) -> None:
    session = add_session(db)
    before = dump(db)
    with pytest.raises(PermissionDenied, match=rf"^A technician cannot sign sessions: {WHO}\.$"):
        sign_session(db, people["tom"], session, PASSWORDS["tom"], "reviewed")
    with pytest.raises(PermissionDenied, match=rf"^A technician cannot sign sessions: {WHO}\.$"):
        sign_session(db, people["tom"], session, "a wrong one", "approved")
    with pytest.raises(PermissionDenied, match=rf"^An admin cannot sign sessions: {WHO}\.$"):
        sign_session(db, people["ada"], session, PASSWORDS["ada"], "approved")
    assert dump(db) == before  # no signature, no audit row, no failed-password count
    assert not is_signed(db, session)


def test_a_supervisor_signs_with_the_password_and_the_session_is_locked(db, people) -> None:
    session = add_session(db)
    signature = sign_session(db, people["sue"], session, PASSWORDS["sue"], "reviewed", " Looks fine. ")
    assert (signature.signer_username, signature.signer_name, signature.meaning, signature.comment) == (
        "sue", "Dr. Sue Super", "reviewed", "Looks fine.")
    assert signature.signed_at.endswith("+00:00")
    assert is_signed(db, session) and signatures_for(db, session) == [signature]
    assert signoff.record_unchanged(db, signature)
    row = history(db, "session", session)[0]
    assert (row["actor"], row["action"], row["new"]["meaning"]) == ("sue", "sign_session", "reviewed")
    assert verify(db).ok
    with pytest.raises(sqlite3.DatabaseError):
        db.execute("UPDATE sessions SET protocol = 'x' WHERE id = ?", [session])
    with pytest.raises(sqlite3.DatabaseError, match="permanent"):
        db.execute("UPDATE signatures SET meaning = 'approved'")
    with pytest.raises(sqlite3.DatabaseError, match="permanent"):
        db.execute("DELETE FROM signatures")


def test_a_wrong_password_signs_nothing_and_counts_towards_the_lockout(db, people) -> None:
    session = add_session(db)
    with pytest.raises(AuthError, match="Wrong"):
        sign_session(db, people["sue"], session, "not-it", "approved")
    with pytest.raises(AuthError, match="password"):
        sign_session(db, people["sue"], session, "", "approved")
    assert not is_signed(db, session) and failed_count(db, "sue") == 1


def test_a_session_still_recording_cannot_be_signed(db, people) -> None:
    session = add_session(db, ended=False)
    before = dump(db)
    with pytest.raises(SignOffError, match="still recording"):
        sign_session(db, people["sue"], session, PASSWORDS["sue"], "approved")
    with pytest.raises(SignOffError, match="still recording"):
        add_addendum(db, people["tom"], session, "a remark")
    assert dump(db) == before
    with pytest.raises(SignOffError, match="no session"):
        sign_session(db, people["sue"], 999, PASSWORDS["sue"], "approved")
    with pytest.raises(SignOffError, match="means one of"):
        sign_session(db, people["sue"], session, PASSWORDS["sue"], "liked")


def test_two_meanings_by_two_people_but_not_the_same_twice(db, people) -> None:
    session = add_session(db)
    sign_session(db, people["sue"], session, PASSWORDS["sue"], "reviewed")
    with pytest.raises(SignOffError, match="already signed"):
        sign_session(db, people["sue"], session, PASSWORDS["sue"], "reviewed")
    sign_session(db, people["sam"], session, PASSWORDS["sam"], "approved")
    assert [(s.signer_username, s.meaning) for s in signatures_for(db, session)] == [
        ("sue", "reviewed"), ("sam", "approved")]


def test_addenda_on_a_signed_session_are_signed_by_their_author(db, people) -> None:
    session = add_session(db)
    first = add_addendum(db, people["tom"], session, "Patient reported a mild headache afterwards.")
    assert signoff.addendum_signatures(db, session) == {}
    sign_session(db, people["sue"], session, PASSWORDS["sue"], "approved")
    with pytest.raises(AuthError, match="signed"):
        add_addendum(db, people["tom"], session, "Headache resolved by evening.")
    with pytest.raises(AuthError, match="Wrong"):
        add_addendum(db, people["tom"], session, "Headache resolved by evening.", "nope-nope")
    second = add_addendum(db, people["tom"], session, "Headache resolved by evening.", PASSWORDS["tom"])
    texts = db.execute("SELECT id, by_user, text FROM addenda WHERE session_id = ? ORDER BY id",
                       [session]).fetchall()
    assert [t[0] for t in texts] == [first, second] and texts[1][1] == "tom"
    signed = signoff.addendum_signatures(db, session)
    assert list(signed) == [second] and signed[second].meaning == "authored"
    assert signatures_for(db, session)[0].meaning == "approved"  # the sign-off list stays sign-offs
    # After an addendum the supervisor may review and approve again.
    sign_session(db, people["sue"], session, PASSWORDS["sue"], "approved")
    assert [r["action"] for r in history(db, "session", session)].count("add_addendum") == 2


def test_who_may_add_addenda_and_what_an_addendum_needs(db, people) -> None:
    session = add_session(db)
    before = dump(db)
    with pytest.raises(PermissionDenied, match="An admin cannot add addenda"):
        add_addendum(db, people["ada"], session, "text")
    with pytest.raises(SignOffError, match="Write the addendum"):
        add_addendum(db, people["sue"], session, "   ")
    assert dump(db) == before
    set_active(db, people["ada"], "tom", False)
    with pytest.raises(PermissionDenied, match="disabled"):
        add_addendum(db, people["tom"], session, "written after the account was disabled")


def test_the_record_hash_shows_a_record_changed_after_signing(db, people) -> None:
    session = add_session(db, pulses=5)
    signature = sign_session(db, people["sue"], session, PASSWORDS["sue"], "approved")
    db.execute("DROP TRIGGER pulses_no_update")
    db.execute("UPDATE pulses SET mso = 51 WHERE session_id = ? AND count = 3", [session])
    assert not signoff.record_unchanged(db, signature)


def test_entries_on_a_signed_session_are_refused_with_a_clear_message(db, people) -> None:
    from console.errors import ClinicError
    from console.session import entries as session_entries

    session = add_session(db)
    session_entries.add_side_effect(db, people["tom"], session, "headache", 3)
    sign_session(db, people["sue"], session, PASSWORDS["sue"], "approved")
    before = dump(db)
    with pytest.raises(ClinicError, match="signed and is locked: add an addendum"):
        session_entries.add_side_effect(db, people["tom"], session, "headache", 5)
    with pytest.raises(ClinicError, match="signed and is locked"):
        session_entries.add_observation(db, people["tom"], session, mood="fine")
    assert dump(db) == before
