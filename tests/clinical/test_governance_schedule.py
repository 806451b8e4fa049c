"""Issue 14, item 10: the schedule's governance.

- Accelerated sessions are 50 minutes apart from the END of one to the start of the next (SNT/
  SAINT), a rule kept as data with its source in resources/schedules.json.
- A session beyond the day's plan needs a physician's signed override; a technician's reason
  (enough for starting a little sooner than the gap) does not cover it.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from console.clinic import records as clinic
from console.errors import ClinicError
from console.note.assembly import build_note
from console.note.render import render_note
from console.note.sections import trajectory_section
from console.resource_data import load as load_json
from console.safety import screening
from console.safety.schedule import early_start_check, next_session_countdown, record_early_start
from console.safety.start_gate import OverrideKind, gate_for_course
from console.session.start_procedure import StartProcedure
from console.ui.chair.start_checks import physician_extra_session_dialog
from db.database import new_uuid, to_utc_iso
from tests.clinical.conftest import PASSWORDS, add_session, open_course
from tests.note.recorded import START, add_patient_and_course, add_phq9, make_db, record_session

MONDAY = date(2026, 3, 2)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm)


def _session(db, course: clinic.Course, started: datetime, ended: datetime) -> int:
    """A completed session with its end recorded, as the recorder leaves it."""
    return int(db.execute(
        "INSERT INTO sessions (uuid, patient_id, course_id, status, started_at, ended_at, device_url, "
        "technician, pulses_delivered) VALUES (?, ?, ?, 'completed', ?, ?, 'sim://', 'tom', 1800)",
        [new_uuid(), course.patient_id, course.id, to_utc_iso(started), to_utc_iso(ended)],
    ).lastrowid)


def test_the_accelerated_gap_counts_from_the_end_and_has_a_source() -> None:
    phase = load_json("schedules.json")["schedules"]["accelerated"]["phases"][0]
    assert phase["min_gap_min"] == 50 and phase["min_gap_from"] == "end"
    assert "Cole" in phase["source"]


def test_fifty_minutes_from_the_end_of_the_previous_session(db, patient) -> None:
    course = open_course(db, patient.id, protocol="accel-itbs", percent_mt=90, planned_sessions=50,
                         schedule="accelerated")
    _session(db, course, at(MONDAY, 8, 0), at(MONDAY, 8, 10))
    # 50 minutes after the start, only 40 after the end: too soon
    early = early_start_check(db, course.id, at(MONDAY, 8, 50))
    assert early is not None and early.kind == "too_soon"
    assert early.wait == timedelta(minutes=10)
    assert "ended 40 minutes ago" in early.message and "09:00" in early.message
    assert next_session_countdown(db, course.id, at(MONDAY, 8, 50)) == timedelta(minutes=10)
    assert early_start_check(db, course.id, at(MONDAY, 9, 0)) is None


def _ready(db, people, patient) -> clinic.Course:
    every = {i.id: "no" for i in screening.load_questionnaire().items}
    screening.record_screening(db, people["tom"], patient.id, every, {})
    clinic.record_motor_threshold(db, patient.id, 45, "EMG", None, "tom")
    return open_course(db, patient.id)


def test_a_session_beyond_the_days_plan_needs_a_physicians_signature(db, people, patient) -> None:
    course = _ready(db, people, patient)
    add_session(db, course, datetime.now() - timedelta(minutes=30))
    gate = gate_for_course(db, course.id)
    need = next(n for n in gate.pending if "session 2 today" in n.problems[0])
    assert need.kind.signed and "physician" in need.kind.what
    # a technician's reason does not let it start
    record_early_start(db, people["tom"], course.id, need.early_start, "patient asked")
    assert not gate_for_course(db, course.id).can_start
    procedure = StartProcedure(db, people["tom"], patient)
    assert procedure.next_question().kind is OverrideKind.EXTRA_SESSION
    for who in ("tom", "sue"):  # neither a technician nor a supervisor signs it
        with pytest.raises((ClinicError, PermissionError), match="beyond the day's plan"):
            procedure.sign_extra_session(who, PASSWORDS[who], "make-up session")
    with pytest.raises(ClinicError):
        procedure.sign_extra_session("phil", "wrong password", "make-up session")
    with pytest.raises(ClinicError):
        procedure.sign_extra_session("phil", PASSWORDS["phil"], "  ")
    procedure.sign_extra_session("phil", PASSWORDS["phil"], "make-up for Monday, agreed with the patient")
    assert procedure.next_question() is None
    assert gate_for_course(db, course.id).can_start


# --- the note takes the taper and the response rule from the course's plan and the clinic's rules ---


def test_the_note_calls_the_taper_from_the_courses_own_plan(tmp_path) -> None:
    """A 20-session acute course tapers from session 15 (its last 6: 3, 2, 1), not from a fixed 31."""
    db = make_db(tmp_path / "short.db")
    patient, course = add_patient_and_course(db, planned=20)
    early = record_session(db, patient, course, number=14, started=START - timedelta(days=1))
    taper = record_session(db, patient, course, number=16, started=START)
    assert build_note(db, early).header.phase == "acute"
    note = build_note(db, taper)
    assert note.header.phase == "taper" and note.header.phase_words == "Taper"
    db.close()


def test_the_note_prints_the_clinics_response_rule_not_half_of_baseline(tmp_path) -> None:
    from console.note.assembly import build_note
    db = make_db(tmp_path / "rule.db")
    patient, course = add_patient_and_course(db)
    sid = record_session(db, patient, course, number=10, started=START)
    add_phq9(db, patient, course, START - timedelta(days=14), [3, 3, 2, 2, 2, 2, 2, 2, 0])
    add_phq9(db, patient, course, START - timedelta(hours=1), [2, 2, 2, 1, 1, 1, 1, 1, 0])
    note = build_note(db, sid)
    rows = [{"taken_at": to_utc_iso(START - timedelta(days=14)), "total": 18},
            {"taken_at": to_utc_iso(START - timedelta(hours=1)), "total": 11}]
    trajectory = trajectory_section(rows, note.header, (40.0, 4))  # a clinic that counts a 40 % drop
    assert trajectory.response_line == pytest.approx(18 * 0.6)
    for fmt in ("txt", "md", "html"):
        text = render_note(dataclasses.replace(note, trajectory=trajectory), fmt).text
        assert "60 % of baseline" in text and "half of baseline" not in text, fmt
    db.close()


def test_the_chair_asks_the_physician_to_sign_an_extra_session(qtbot, db, people, patient) -> None:
    """The dialog the chair opens for a session beyond the plan asks for a physician, and a
    technician's own name and password are refused in words."""
    course = _ready(db, people, patient)
    add_session(db, course, datetime.now() - timedelta(minutes=30))
    procedure = StartProcedure(db, people["tom"], patient)
    need = procedure.next_question()
    dialog = physician_extra_session_dialog(need.problems, procedure.sign_extra_session)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "physician" in dialog.prompt.text() and "supervisor" not in dialog.prompt.text().lower()
    assert dialog.username.accessibleName() == "Physician's user name"
    signed: list = []
    dialog.signed.connect(signed.append)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.username.setText("tom")
    dialog.password.setText(PASSWORDS["tom"])
    dialog.reason.setText("patient asked")
    ok.click()
    assert signed == [] and "beyond the day's plan" in dialog.error.text()
    dialog.username.setText("phil")
    dialog.password.setText(PASSWORDS["phil"])
    ok.click()
    qtbot.waitUntil(lambda: bool(signed), timeout=10000)
    assert procedure.next_question() is None
