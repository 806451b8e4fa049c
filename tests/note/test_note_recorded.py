"""End to end: a session recorded by the real runner (replay adapter, writer, SQLite file), the
technician's entries and PHQ-9 through the domain functions, a supervisor's sign-off, then the note."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from console.clinic.outcomes import record_phq9
from console.clinic.records import create_patient, open_course, record_motor_threshold
from console.note.assembly import build_note
from console.people.admin import create_user
from console.review.signoff import sign_session
from console.session.entries import add_checklist, add_observation, add_side_effect
from console.session.plan import plan_session
from console.session.runner import SessionRunner
from console.ui.note.note_pdf import write_pdf
from db.database import open_database
from devices.registry import create_adapter
from tests.engine.capture import TARGET, write_run


def test_note_of_a_really_recorded_session(tmp_path: Path, fast_hasher: None, qapp) -> None:
    db_path = tmp_path / "clinic.db"
    db = open_database(db_path)
    admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
    tech = create_user(db, admin, "tina", "Tina Tech", "technician", "tech-pass-1")
    boss = create_user(db, admin, "sue", "Dr. Sue Super", "supervisor", "super-pass-1")
    patient = create_patient(db, "P-100", "Jane Q. Doe")
    keys = ("x", "y", "z", "qw", "qx", "qy", "qz")
    course = open_course(db, patient.id, "itbs", 120.0, target_pose=dict(zip(keys, TARGET, strict=True)))
    record_motor_threshold(db, patient.id, 52.0, "EMG")
    record_phq9(db, tech, patient.id, course.id, [3, 3, 2, 2, 2, 2, 2, 1, 0],
                taken_at="2026-01-05T09:00:00+00:00")
    plan = plan_session(db, patient, technician="Tina Tech")
    db.close()

    capture = write_run(tmp_path / "itbs.tscp", fault_ms=(30_000, 40_000))
    runner = SessionRunner(db_path, create_adapter(f"replay://{capture}"), plan)
    try:
        runner.open()
        runner.start(by="Tina Tech").result(timeout=10)
        assert runner.wait_until_ended(60), "the session did not end"
    finally:
        runner.close()
    session_id = runner.session_id

    db = open_database(db_path)
    add_checklist(db, tech, session_id, [
        {"id": "medication_change", "question": "Medication?", "answer": "no"},
        {"id": "sleep_change", "question": "Sleep?", "answer": "yes", "note": "Woke at 4 most nights"},
        {"id": "alcohol_drugs", "question": "Alcohol?", "answer": "no"},
    ])
    add_side_effect(db, tech, session_id, "headache", 4, "eased by the end")
    add_observation(db, tech, session_id, mood="Calm", patient_said="Better week, slept a bit more.",
                    technician_saw="Smiled when talking about the garden.")
    record_phq9(db, tech, patient.id, course.id, [2, 2, 1, 1, 1, 1, 1, 1, 0])  # today, after the session

    before = build_note(db, session_id)
    assert before.header.patient_label == "JQD" and before.header.session_number == 1
    assert before.today.pulses_delivered == 600 and before.today.outcome == "completed"
    assert any("the coil became too warm" in line for line in before.today.interruptions)
    assert before.trajectory.baseline == 17 and before.trajectory.latest == 10
    out = tmp_path / "before.pdf"
    write_pdf(before, out)
    text = " ".join(PdfReader(str(out)).pages[0].extract_text().split())
    assert "Session 1 of 36" in text and "600 of 600 pulses" in text
    assert "Headache: 4/10" in text and "Sleep changed (Woke at 4 most nights)" in text
    assert "Better week, slept a bit more." in text and "Not yet reviewed" in text

    sign_session(db, boss, session_id, "super-pass-1", "approved")
    after = build_note(db, session_id)
    write_pdf(after, out)
    text = " ".join(PdfReader(str(out)).pages[0].extract_text().split())
    sig = after.review.signatures[0]
    assert "Not yet reviewed" not in text
    assert f"Approved by Dr. Sue Super, {sig.signed_at}" in text
    db.close()
