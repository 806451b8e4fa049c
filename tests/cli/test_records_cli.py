"""Issue 15: scripted records (patients, course, mt, screening, outcome) by the GUI's rules.

In-process ``main.main`` on a real database file; accounts made through the domain.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import main
from console.audit import history
from console.clinic.outcomes import series
from console.clinic.records import active_course, find_patient
from console.people.admin import set_active
from console.people.user import get_user
from db.database import open_database
from tests.cli.accounts import account

pytestmark = pytest.mark.usefixtures("fast_hasher")


@pytest.fixture
def clinic(tmp_path: Path) -> dict[str, list[str]]:
    path = tmp_path / "clinic.db"
    open_database(path).close()
    return {"db": ["--db", str(path)], "path": [str(path)], "lead": account(path, "supervisor"),
            "technician": account(path, "technician")}


def _ok(capsys, *argv: str) -> str:
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, (argv, err)
    return out


def _refused(capsys, *argv: str) -> str:
    assert main.main(list(argv)) == 1, argv
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def test_patients_list_and_show_print_json_and_leave_an_audit_row(clinic, capsys) -> None:
    db, doc, tech = clinic["db"], clinic["lead"], clinic["technician"]
    _ok(capsys, "patients", "add", "--clinic-id", "P-1", "--name", "Alex Example", *db, *doc)
    _ok(capsys, "patients", "add", "--clinic-id", "P-2", "--name", "Robin Roe", *db, *doc)
    listed = json.loads(_ok(capsys, "patients", "list", "--json", *db, *tech))
    assert [p["clinic_id"] for p in listed] == ["P-1", "P-2"]
    _ok(capsys, "course", "open", "--patient", "P-1", "--protocol", "10hz", "--percent-mt", "120", *db, *doc)
    shown = json.loads(_ok(capsys, "patients", "show", "P-1", "--json", *db, *tech))
    assert shown["name"] == "Alex Example" and shown["courses"][0]["protocol"] == "10hz"
    database = open_database(Path(clinic["path"][0]), create=False)
    try:
        rows = history(database)
        assert ("test-technician", "view_patient_list") in {(r["actor"], r["action"]) for r in rows}
        assert ("test-technician", "view_patient") in {(r["actor"], r["action"]) for r in rows}
    finally:
        database.close()
    assert "no patient with clinic id 'P-9'" in _refused(capsys, "patients", "show", "P-9", *db, *tech)
    assert "already exists" in _refused(capsys, "patients", "add", "--clinic-id", "P-1", "--name", "X Y",
                                        *db, *doc)


def test_course_close_and_a_second_open_follow_the_domain_rules(clinic, capsys) -> None:
    db, doc = clinic["db"], clinic["lead"]
    _ok(capsys, "patients", "add", "--clinic-id", "P-1", "--name", "Alex Example", *db, *doc)
    _ok(capsys, "course", "open", "--patient", "P-1", "--protocol", "10hz", "--percent-mt", "120", *db, *doc)
    _refused(capsys, "course", "open", "--patient", "P-1", "--protocol", "10hz", "--percent-mt", "120",
             *db, *doc)
    _ok(capsys, "course", "close", "--patient", "P-1", "--reason", "course complete", *db, *doc)
    assert "no open course" in _refused(capsys, "course", "close", "--patient", "P-1", "--reason", "x",
                                        *db, *doc)


def test_outcomes_phq9_items_and_clinician_totals(clinic, capsys) -> None:
    db, doc, tech = clinic["db"], clinic["lead"], clinic["technician"]
    _ok(capsys, "patients", "add", "--clinic-id", "P-1", "--name", "Alex Example", *db, *doc)
    _ok(capsys, "course", "open", "--patient", "P-1", "--protocol", "10hz", "--percent-mt", "120", *db, *doc)
    out = _ok(capsys, "outcome", "add", "--patient", "P-1", "--instrument", "PHQ-9",
              "--items", "2,2,1,1,1,1,1,1,0", *db, *tech)
    assert "total 10" in out
    _ok(capsys, "outcome", "add", "--patient", "P-1", "--instrument", "MADRS", "--total", "24", *db, *tech)
    _ok(capsys, "outcome", "add", "--patient", "P-1", "--instrument", "HAM-D", "--total", "18", *db, *tech)
    assert "--items" in _refused(capsys, "outcome", "add", "--patient", "P-1", "--instrument", "PHQ-9",
                                 "--total", "10", *db, *tech)
    outcome = ("outcome", "add", "--patient", "P-1", "--instrument")
    _refused(capsys, *outcome, "PHQ-9", "--items", "1,2", *db, *tech)
    _refused(capsys, *outcome, "MADRS", "--total", "99", *db, *tech)
    database = open_database(Path(clinic["path"][0]), create=False)
    try:
        course = active_course(database, find_patient(database, "P-1").id)
        assert [p.total for p in series(database, course.id)] == [10]
        assert [p.total for p in series(database, course.id, "MADRS")] == [24]
        assert [p.total for p in series(database, course.id, "HAM-D")] == [18]
    finally:
        database.close()


def test_a_disabled_account_is_refused_at_once(clinic, capsys) -> None:
    db, tech = clinic["db"], clinic["technician"]
    database = open_database(Path(clinic["path"][0]), create=False)
    try:
        set_active(database, get_user(database, "test-admin"), "test-technician", False)
    finally:
        database.close()
    assert "disabled" in _refused(capsys, "patients", "list", *db, *tech)


def test_a_screening_with_a_yes_waits_for_the_physician(clinic, capsys, tmp_path: Path) -> None:
    db, doc, tech = clinic["db"], clinic["lead"], clinic["technician"]
    _ok(capsys, "patients", "add", "--clinic-id", "P-1", "--name", "Alex Example", *db, *doc)
    _ok(capsys, "course", "open", "--patient", "P-1", "--protocol", "10hz", "--percent-mt", "120", *db, *doc)
    out = _ok(capsys, "screening", "record", "--patient", "P-1", "--all-no", *db, *tech)
    assert "screening clear" not in out
    said = _refused(capsys, "screening", "clear", "--patient", "P-1", "--reason", "fine", *db, *tech)
    assert "technician cannot" in said
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert "one object" in _refused(capsys, "screening", "record", "--patient", "P-1", "--answers", str(bad),
                                    *db, *tech)
