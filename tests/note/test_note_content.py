"""What the note says, read from a recorded session: the facts a therapist acts on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from console.clinic import outcomes
from console.note.assembly import NoteUnavailable, build_note
from console.note.render import render_note

from .recorded import (
    START,
    Recorded,
    add_patient_and_course,
    add_phq9,
    iso,
    make_db,
    record_session,
    set_setting,
)


def test_header_shows_the_clinic_id_and_initials_not_the_name(recorded: Recorded) -> None:
    note = build_note(recorded.db, recorded.session_id)
    h = note.header
    assert (h.patient_id, h.patient_label) == ("MRN-20417", "A.B.")
    assert (h.session_number, h.sessions_planned, h.phase) == (12, 36, "acute")
    assert h.days_since_first == 15  # first session 9 Nov, this one 24 Nov
    assert h.clinic_name == "Riverside TMS Clinic" and h.supervising_physician == "Dr. Priya Natarajan"
    for fmt in ("html", "txt", "md"):
        assert "Bergström" not in render_note(note, fmt).text


def test_full_name_only_when_the_clinic_allows_it(recorded: Recorded) -> None:
    set_setting(recorded.db, "note_show_full_name", True)
    note = build_note(recorded.db, recorded.session_id)
    assert note.header.patient_label == "Alice Bergström"
    assert "Alice Bergström" in render_note(note, "txt").text


def test_todays_session_in_plain_words(recorded: Recorded) -> None:
    note = build_note(recorded.db, recorded.session_id)
    t = note.today
    assert (t.outcome, t.pulses_delivered, t.pulses_planned) == ("completed", 600, 600)
    assert t.treatment == "intermittent theta burst stimulation"
    assert t.target == "left prefrontal target"
    assert t.intensity == "120 % of motor threshold"
    assert t.interruptions == ["09:30 paused: Patient asked to pause"]
    assert [c.words for c in t.changes] == [
        "Medication changed", "Sleep as usual", "No alcohol or drugs in the last 24 hours"]
    assert t.changes[0].note == "Sertraline raised to 100 mg on Friday"
    text = render_note(note, "txt").text
    for jargon in ("iTBS", "DLPFC", "% MT", " MT ", "MSO", "rTMS"):
        assert jargon not in text, jargon


def test_side_effects_keep_their_ratings(recorded: Recorded) -> None:
    note = build_note(recorded.db, recorded.session_id)
    assert [(s.label, s.rating, s.note) for s in note.side_effects] == [
        ("Headache", 3, "mild, left side"), ("Scalp discomfort", 2, "")]
    assert note.safety.level == "none_recorded"  # never "stable" (issue 14, item 3)


def test_trajectory_baseline_change_and_lines(recorded: Recorded) -> None:
    tr = build_note(recorded.db, recorded.session_id).trajectory
    assert [p.total for p in tr.points] == [19, 15, 11, 11]
    assert (tr.baseline, tr.latest) == (19, 11)
    assert tr.change_percent == pytest.approx(100 * 8 / 19)
    assert tr.response_line == pytest.approx(9.5) and tr.remission_line == 5
    assert not tr.response_reached and not tr.remission_reached
    assert tr.sessions_remaining == 24
    assert "down 42 %" in tr.change_words


def test_trajectory_agrees_with_the_outcome_screens(recorded: Recorded) -> None:
    ours = build_note(recorded.db, recorded.session_id).trajectory
    theirs = outcomes.course_outcomes(recorded.db, recorded.course_id)
    assert (ours.baseline, ours.latest) == (theirs.baseline, theirs.latest)
    assert ours.response_line == pytest.approx(theirs.response_threshold)
    assert ours.response_reached == bool(theirs.response)
    assert ours.remission_line == theirs.remission_at_most + 1


def test_a_later_phq9_does_not_leak_into_an_older_note(recorded: Recorded) -> None:
    add_phq9(recorded.db, recorded.patient_id, recorded.course_id, START + timedelta(days=7), [0] * 9)
    tr = build_note(recorded.db, recorded.session_id).trajectory
    assert tr.latest == 11 and len(tr.points) == 4


def test_observations_keep_the_patients_words_apart(recorded: Recorded) -> None:
    note = build_note(recorded.db, recorded.session_id)
    o = note.observations
    assert o.patient_said == "I went for a walk with my sister on Sunday, first time in weeks."
    assert o.technician_saw.startswith("Quiet at first")
    text = render_note(note, "txt").text
    assert 'The patient said: "I went for a walk with my sister on Sunday, first time in weeks."' in text
    assert "The technician saw: Mood: Tired." in text


def test_focus_and_reminders_come_from_the_clinic_guidance(recorded: Recorded) -> None:
    f = build_note(recorded.db, recorded.session_id).for_therapist
    assert f.focus == [] and f.reminders == []  # shipped empty: no advice without a source (issue 14)
    assert f.warnings and all(w.source for w in f.warnings)
    emergency, *others = f.escalation  # emergency services first (issue 14, item 8), never the clinic's phone
    assert "emergency services" in emergency.action and emergency.phone != "555-0142"
    assert others and all(e.phone == "555-0142" for e in others)  # empty phone -> clinic phone


def test_unknown_session_is_a_clear_message(recorded: Recorded) -> None:
    with pytest.raises(NoteUnavailable, match="There is no session 999"):
        build_note(recorded.db, 999)


def _one_session(tmp_path: Path, **kwargs) -> tuple[Recorded, object]:
    db = make_db(tmp_path / "one.db")
    patient, course = add_patient_and_course(db)
    number = kwargs.pop("number", 1)
    session = record_session(db, patient, course, number=number, started=START, **kwargs)
    return Recorded(db, patient, course, session), db


def test_adverse_event_is_escalated_at_the_top(tmp_path: Path) -> None:
    rec, db = _one_session(tmp_path, status="stopped", end_reason="Adverse event", delivered=240, events=[
        ("adverse_event", "syncope", {"adverse_event_id": 1, "description": "Fainted briefly in the chair",
                                      "actions_taken": "Stimulation stopped, lay flat, recovered in 1 min"}),
    ])
    note = build_note(db, rec.session_id)
    assert note.safety.level == "escalated"
    assert "syncope: Fainted briefly in the chair" in note.safety.adverse_events[0]
    assert note.today.outcome == "partial" and note.today.outcome_words == "Stopped early: Adverse event"
    assert note.safety.told == ["Not recorded in the console."]
    text = render_note(note, "txt").text
    assert text.index("ADVERSE EVENT") < text.index("TODAY'S SESSION")
    html = render_note(note, "html").text
    assert html.index("Adverse event:") < html.index("Today's session")
    db.close()


def test_item9_above_zero_is_watch_with_who_was_told(tmp_path: Path) -> None:
    rec, db = _one_session(tmp_path)
    add_phq9(db, rec.patient_id, rec.course_id, START - timedelta(days=7), [3, 3, 2, 2, 2, 2, 1, 1, 0])
    add_phq9(db, rec.patient_id, rec.course_id, START - timedelta(minutes=20), [2, 2, 2, 2, 1, 1, 1, 1, 1])
    outcome_id = db.execute("SELECT max(id) FROM outcomes").fetchone()[0]
    db["safety_notifications"].insert({
        "outcome_id": outcome_id, "told_whom": "Dr. Priya Natarajan (supervising physician)",
        "told_at": iso(START - timedelta(minutes=10)), "by_user": "jrivera", "recorded_at": iso(START)})
    note = build_note(db, rec.session_id)
    assert note.safety.level == "watch" and note.safety.item9 == 1
    assert note.safety.item9_raised and note.safety.item9_words.startswith("PHQ-9 item 9")
    assert note.safety.told[0].startswith("Dr. Priya Natarajan (supervising physician) at ")
    assert "several days" in note.safety.item9_words
    db.close()


def test_strong_side_effect_is_watch(tmp_path: Path) -> None:
    rec, db = _one_session(tmp_path, events=[("side_effect", "headache", {"rating": 8})])
    note = build_note(db, rec.session_id)
    assert note.safety.level == "watch"
    assert note.safety.other_reasons == ["Side effect rated headache 8/10."]
    db.close()


def test_taper_phase_and_device_interruptions(tmp_path: Path) -> None:
    rec, db = _one_session(tmp_path, number=32, status="stopped", end_reason="Device problem",
                           delivered=450, events=[
                               ("fault", "COIL_OVERTEMP", {"text": "coil 40.2 C"}),
                               ("pause", None, {"source": "device"}),
                               ("device_lost", None, {"reason": "unplugged"}),
                               ("note", None, {"text": "Restarted the iTBS run after the coil cooled"}),
                           ])
    note = build_note(db, rec.session_id)
    assert note.header.phase == "taper" and note.header.phase_words == "Taper"
    assert note.today.outcome_words == "Stopped early: Device problem"
    lines = note.today.interruptions
    assert lines[0].endswith("device stopped: the coil became too warm")
    assert lines[1].endswith("paused at the device")
    assert lines[2].endswith("connection to the device lost")
    assert note.today.notes == ["Restarted the intermittent theta burst run after the coil cooled"]
    assert note.for_therapist.focus == []  # the clinic writes its own focus lists (issue 14, item 9)
    db.close()


def test_no_phq9_yet_and_no_observations_say_so(tmp_path: Path) -> None:
    rec, db = _one_session(tmp_path)
    note = build_note(db, rec.session_id)
    assert note.trajectory.points == [] and "No PHQ-9" in note.trajectory.change_words
    assert note.safety.item9_words.startswith("No PHQ-9 taken today.")
    assert note.safety.item9_words.endswith("is on record.")
    assert not note.observations.recorded
    assert "No observations were entered" in render_note(note, "txt").text
    db.close()
