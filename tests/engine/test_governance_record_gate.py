"""Issue 14, item 2: no session starts without a course, a prescription and a cleared screening,
at the chair or headless. ``record`` skipped every check for a patient with no open course (also
with ``--create-patient``); now one gate (console.safety.start_gate) refuses the same session at
the chair and in ``record``, in the same words."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.clinic import records as clinic
from console.errors import ClinicError
from console.people.admin import create_user
from console.safety import screening
from console.safety.start_gate import gate_for_patient
from console.session.course_overview import overview_for
from console.session.plan import plan_session
from console.session.start_procedure import StartProcedure, StartRefused
from console.ui.chair.start_of_day import StartOfDay
from db.database import open_database
from tests.engine.clinic_setup import login_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("fast_hasher")


def record(db_path: Path, clinic_id: str, *extra: str,
           role: str = "technician") -> subprocess.CompletedProcess:
    user, env = login_for(db_path, role)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "record", "--device", "sim://itbs?speed=1000",
         "--patient", clinic_id, "--db", str(db_path), *user, *extra],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )


def chair_refusal(qtbot, db, tech, patient) -> str:
    """What the chair says when the technician tries to begin this patient's session."""
    page = StartOfDay(db)
    qtbot.addWidget(page)
    requested: list = []
    page.session_requested.connect(requested.append)
    page.search.setText(patient.clinic_id)
    page.refresh()
    assert not page.card.begin.isEnabled()
    page.begin()
    assert requested == []
    said = ""
    try:  # not pytest.raises: its kept traceback holds the widget's frame into Qt's event processing
        StartProcedure(db, tech, patient).next_question()
    except StartRefused as refused:
        said = str(refused)
    assert said and said in page.card.blockers.text()
    return said


@pytest.fixture
def db_path(tmp_path: Path) -> Iterator[Path]:
    """A clinic database file, opened once here and closed after the chair's widgets are gone."""
    path = tmp_path / "clinic.db"
    db = open_database(path)
    yield path
    db.close()


def test_the_chair_and_record_refuse_an_unscreened_patient_without_a_course_alike(
    db_path: Path, qtbot,
) -> None:
    db = open_database(db_path)
    admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
    tech = create_user(db, admin, "tom", "Tom Tech", "technician", "tech-pass-1")
    patient = clinic.create_patient(db, "P-7", "Jane Roe")
    clinic.record_motor_threshold(db, patient.id, 50, "EMG")
    answers = {item.id: "no" for item in screening.load_questionnaire().items} | {"pacemaker": "yes"}
    screening.record_screening(db, tech, patient.id, answers, {"pacemaker": "fitted 2019"})

    # No course and an uncleared contraindication: the 600 pulses, exit 0.
    gate = gate_for_patient(db, patient.id)
    assert gate.course_id is None and len(gate.blockers) == 2
    said = chair_refusal(qtbot, db, tech, patient)
    assert said == gate.blockers[0].message and "No open treatment course" in said
    refused = record(db_path, "P-7")
    assert refused.returncode != 0
    assert refused.stderr.strip() == f"record: This session cannot start: {said} (and 1 more)"
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0

    # A course alone is not enough: the uncleared pacemaker still refuses both.
    clinic.open_course(db, patient.id, "itbs", 120)
    said = chair_refusal(qtbot, db, tech, patient)
    assert "contraindication" in said and said == overview_for(db, patient).blockers[0]
    refused = record(db_path, "P-7")
    assert refused.returncode != 0
    assert refused.stderr.strip() == f"record: This session cannot start: {said}"
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0

    # Screened again without the pacemaker (it was removed): both let it start.
    all_no = {item.id: "no" for item in screening.load_questionnaire().items}
    screening.record_screening(db, tech, patient.id, all_no)
    assert StartProcedure(db, tech, patient).next_question() is None
    done = record(db_path, "P-7")
    assert done.returncode == 0, done.stderr
    assert "ENDED completed pulses 600/600" in done.stdout
    course_of_session = db.execute("SELECT course_id FROM sessions").fetchone()[0]
    course = clinic.active_course(db, patient.id)
    assert course is not None and course_of_session == course.id


def test_create_patient_creates_the_patient_and_names_what_a_first_session_needs(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    open_database(db_path).close()
    by_technician = record(db_path, "NEW-1", "--create-patient")  # creating patients is not theirs
    assert by_technician.returncode == 1 and "technician cannot manage patients" in by_technician.stderr
    db = open_database(db_path)
    assert clinic.find_patient(db, "NEW-1") is None
    db.close()
    refused = record(db_path, "NEW-1", "--create-patient", role="supervisor")
    assert refused.returncode != 0 and refused.stdout == ""
    err = refused.stderr
    assert "Traceback" not in err
    assert "NEW-1 was created" in err
    for missing in ("No open treatment course", "No safety screening", "No motor threshold"):
        assert missing in err, err
    assert err.count("Who can clear this:") == 3 and "supervisor" in err
    db = open_database(db_path)
    assert clinic.find_patient(db, "NEW-1") is not None
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    # Asked again, the patient exists: refused in the gate's own words, still nothing recorded.
    again = record(db_path, "NEW-1", "--create-patient", role="supervisor")
    assert again.returncode != 0
    assert again.stderr.startswith("record: This session cannot start: No open treatment course")
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    db.close()


def test_no_plan_is_made_for_a_patient_without_an_open_course(tmp_path: Path) -> None:
    db = open_database(tmp_path / "clinic.db")
    patient = clinic.create_patient(db, "P-8", "Cy Do")
    with pytest.raises(ClinicError, match="no open treatment course"):
        plan_session(db, patient)
    db.close()


def test_a_session_beyond_the_days_plan_takes_a_physicians_signature_at_the_chair_and_in_record(
    db_path: Path, tmp_path: Path,
) -> None:
    """Issue 14, item 10: the chair asked a physician to sign a second acute session of the day,
    while ``record`` only logged it and recorded. Now both refuse it until a physician signs; the
    physician's signature from the command line covers one session."""
    db = open_database(db_path)
    admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
    tech = create_user(db, admin, "tom", "Tom Tech", "technician", "tech-pass-1")
    create_user(db, admin, "sam", "Sam Super", "supervisor", "super-pass-1")
    create_user(db, admin, "phil", "Dr Phil", "physician", "phys-pass-1")
    patient = clinic.create_patient(db, "P-9", "Jo Bloggs")
    clinic.record_motor_threshold(db, patient.id, 50, "EMG")
    screening.record_screening(db, tech, patient.id,
                               {item.id: "no" for item in screening.load_questionnaire().items})
    clinic.open_course(db, patient.id, "itbs", 120)
    first = record(db_path, "P-9")
    assert first.returncode == 0, first.stderr

    # The second of an acute day: the chair asks a physician; record refuses in the same words.
    need = StartProcedure(db, tech, patient).next_question()
    assert need is not None and need.kind.value == "extra_session"
    refused = record(db_path, "P-9")
    assert refused.returncode != 0
    assert refused.stderr.startswith(f"record: This session cannot start: {need.summary()}")
    assert "extra-session sign" in refused.stderr
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1

    def sign(user: str, password: str) -> subprocess.CompletedProcess:
        pw = tmp_path / f"{user}.pw"
        pw.write_text(password + "\n")
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "extra-session", "sign", "--patient", "P-9",
             "--reason", "make-up for Monday", "--db", str(db_path), "--user", user,
             "--password-file", str(pw)],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
        )

    # A supervisor may not sign it; a wrong password signs nothing.
    by_supervisor = sign("sam", "super-pass-1")
    assert by_supervisor.returncode == 1 and "physician" in by_supervisor.stderr
    assert sign("phil", "not-the-password").returncode == 1
    assert record(db_path, "P-9").returncode != 0

    signed = sign("phil", "phys-pass-1")
    assert signed.returncode == 0, signed.stderr
    assert StartProcedure(db, tech, patient).next_question() is None  # the chair sees it too
    done = record(db_path, "P-9")
    assert done.returncode == 0, done.stderr
    second = db.execute("SELECT max(id) FROM sessions").fetchone()[0]
    linked = db.execute("SELECT by_user, by_role, signed FROM overrides WHERE session_id = ?",
                        [second]).fetchall()
    assert linked == [("phil", "physician", 1)]
    # It covered that one session: the third of the day is refused again.
    assert record(db_path, "P-9").returncode != 0
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 2
    db.close()


def test_record_says_who_is_asking_on_a_clinic_database(db_path: Path) -> None:
    """Issue 15: ``record`` wrote patient data for whoever ran it; now, as every command that reads
    or writes patient records, it authenticates the technician, who is then the session's."""
    from tests.engine.clinic_setup import clinic as ready_clinic

    ready_clinic(db_path, "itbs", clinic_id="P-3")
    anonymous = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "record", "--device", "sim://itbs?speed=1000",
         "--patient", "P-3", "--db", str(db_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, "TMS_CONSOLE_PASSWORD": ""})
    assert anonymous.returncode == 1 and "give --user" in anonymous.stderr
    user, env = login_for(db_path)
    wrong = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "record", "--device", "sim://itbs?speed=1000",
         "--patient", "P-3", "--db", str(db_path), *user],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**env, "TMS_CONSOLE_PASSWORD": "nope"})
    assert wrong.returncode == 1 and "Wrong user name or password" in wrong.stderr
    db = open_database(db_path)
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    db.close()
    done = record(db_path, "P-3")
    assert done.returncode == 0, done.stderr
    db = open_database(db_path)
    assert db.execute("SELECT technician FROM sessions").fetchall() == [("cli-technician",)]
    db.close()
