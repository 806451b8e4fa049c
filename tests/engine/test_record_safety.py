"""The headless record command keeps the hard safety checks: a pacemaker answer
without a physician's signed clearance refuses the session, with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.clinic import records as clinic
from console.people.admin import create_user
from console.safety import screening
from console.safety.limits import record_override
from console.safety.start_gate import gate_for_course
from console.session.course_overview import overview_for
from db.database import open_database
from tests.engine.clinic_setup import login_for

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("fast_hasher")


def record(db_path: Path) -> subprocess.CompletedProcess:
    user, env = login_for(db_path)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "record", "--device", "sim://itbs?speed=1000",
         "--patient", "P-7", "--db", str(db_path), *user],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )


def test_a_pacemaker_blocks_recording_until_a_physician_clears_it(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    db = open_database(db_path)
    admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
    tech = create_user(db, admin, "tom", "Tom Tech", "technician", "tech-pass-1")
    sue = create_user(db, admin, "sue", "Dr. Sue Physician", "physician", "super-pass-1")  # issue 14, item 7
    patient = clinic.create_patient(db, "P-7", "Jane Roe")
    clinic.record_motor_threshold(db, patient.id, 50, "EMG")
    clinic.open_course(db, patient.id, "itbs", 120)
    answers = {item.id: "no" for item in screening.load_questionnaire().items} | {"pacemaker": "yes"}
    screening.record_screening(db, tech, patient.id, answers, {"pacemaker": "fitted 2019"})

    refused = record(db_path)
    assert refused.returncode != 0
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "contraindication" in lines[0] and "physician" in lines[0]
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0

    screening.record_clearance(db, sue, "super-pass-1", patient.id, "Cardiology: MRI-conditional, cleared")
    done = record(db_path)
    assert done.returncode == 0, done.stderr
    assert "ENDED completed pulses 600/600" in done.stdout
    db.close()


def test_a_prescription_the_device_cannot_deliver_is_refused_even_with_a_signed_override(
    tmp_path: Path,
) -> None:
    """The chair blocked a prescription above 100 % MSO, ``record`` let a signed override lift it:
    one gate now, and no override makes the device give more than its maximum."""
    db_path = tmp_path / "clinic.db"
    db = open_database(db_path)
    admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
    tech = create_user(db, admin, "tom", "Tom Tech", "technician", "tech-pass-1")
    sue = create_user(db, admin, "sue", "Dr. Sue Physician", "physician", "super-pass-1")
    patient = clinic.create_patient(db, "P-7", "Jane Roe")
    clinic.record_motor_threshold(db, patient.id, 90, "EMG")
    course = clinic.open_course(db, patient.id, "10hz", 115)  # 103.5 -> 103 % MSO (rounded down)
    screening.record_screening(db, tech, patient.id,
                               {item.id: "no" for item in screening.load_questionnaire().items})
    violations = gate_for_course(db, course.id).limit_violations
    record_override(db, sue, "super-pass-1", ("course", course.id), violations, "asked to try")

    refused = record(db_path)
    assert refused.returncode != 0
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "103 % MSO" in lines[0] and "maximum output" in lines[0], lines
    assert lines[0] == f"record: This session cannot start: {overview_for(db, patient).blockers[0]}"
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    db.close()


def test_record_refuses_in_the_words_of_the_start_of_day_card(tmp_path: Path) -> None:
    """The chair's card and ``record`` list the same blockers, word for word."""
    db_path = tmp_path / "clinic.db"
    db = open_database(db_path)
    admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
    tech = create_user(db, admin, "tom", "Tom Tech", "technician", "tech-pass-1")
    patient = clinic.create_patient(db, "P-7", "Jane Roe")
    course = clinic.open_course(db, patient.id, "itbs", 120)
    screening.record_screening(db, tech, patient.id,
                               {item.id: "no" for item in screening.load_questionnaire().items})
    card = overview_for(db, patient).blockers  # no motor threshold yet
    assert card == gate_for_course(db, course.id).blocker_messages and len(card) == 1

    refused = record(db_path)
    assert refused.returncode != 0
    assert refused.stderr.strip() == f"record: This session cannot start: {card[0]}"
    answers = {item.id: "no" for item in screening.load_questionnaire().items} | {"pacemaker": "yes"}
    screening.record_screening(db, tech, patient.id, answers, {"pacemaker": "fitted 2019"})
    card = overview_for(db, patient).blockers  # and an uncleared pacemaker
    refused = record(db_path)
    assert refused.stderr.strip() == f"record: This session cannot start: {card[0]} (and 1 more)"
    db.close()
