"""Issue 14 item 11: the CPT code of each session, worked out from the record and shown everywhere.

90867 for the first session of a course (MT determination and mapping), 90868 for a later one,
90869 for a later session on a day a new motor threshold was recorded. The codes and rules are the
clinic's data (resources/cpt_codes.json). A real SQLite file; sessions are rows as the recorder
leaves them (started, ended, pulses delivered), so each day is under the test's control.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import sqlite_utils

from console.clinic.records import create_patient, open_course, record_motor_threshold
from console.resource_data import load
from console.review.detail import load_detail
from console.review.export import session_export
from console.review.queue import ReviewFilter, find_sessions, write_csv
from db.database import new_uuid, open_database, to_utc_iso
from tests.conftest import SHARED

SCHEMA = json.loads((SHARED / "protocol" / "session-export.schema.json").read_text())
TODAY = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)


def _local(days_ago: int, hour: int) -> datetime:
    """A local time ``days_ago`` days back (always in the past: an MT may not be in the future)."""
    return TODAY - timedelta(days=days_ago) + timedelta(hours=hour)


def _session(db: sqlite_utils.Database, patient: int, course: int | None, number: int | None,
             started: datetime, delivered: int = 600) -> int:
    begun = to_utc_iso(started)
    sid: int | None = db.execute(
        "INSERT INTO sessions (uuid, patient_id, course_id, number_in_course, started_at, technician, "
        "device_url, protocol, pulses_planned, mt_mso, percent_mt, prescribed_mso) "
        "VALUES (?, ?, ?, ?, ?, 'tom', 'sim://', 'iTBS left DLPFC', 600, 52, 120, 62)",
        [new_uuid(), patient, course, number, begun]).lastrowid
    db.execute("UPDATE sessions SET status = 'completed', ended_at = ?, pulses_delivered = ?, "
               "pulses_recorded = ?, duration_s = 190 WHERE id = ?",
               [to_utc_iso(started + timedelta(minutes=4)), delivered, delivered, sid])
    assert sid is not None
    return sid


@pytest.fixture
def course_db(tmp_path: Path):
    """A patient's course: MT and first session 10 days ago, later sessions, a new MT 3 days ago."""
    db = open_database(tmp_path / "clinic.db")
    patient = create_patient(db, "P-CPT", "Cora Pat")
    course = open_course(db, patient.id, "itbs", 120.0, planned_sessions=30)
    record_motor_threshold(db, patient.id, 52, "EMG", _local(10, 9))
    ids = {
        "first": _session(db, patient.id, course.id, 1, _local(10, 10)),
        "second": _session(db, patient.id, course.id, 2, _local(9, 10)),
        "aborted": _session(db, patient.id, course.id, 3, _local(3, 8), delivered=0),
        "remeasured": _session(db, patient.id, course.id, 4, _local(3, 10)),
        "same_day_again": _session(db, patient.id, course.id, 5, _local(3, 15)),
        "after": _session(db, patient.id, course.id, 6, _local(2, 10)),
    }
    # The re-measure typed in after the session that day, as happens: still that day's MT.
    record_motor_threshold(db, patient.id, 54, "EMG", _local(3, 11))
    ids["no_course"] = _session(db, patient.id, None, None, _local(1, 10))
    yield db, ids
    db.close()


def _code(db: sqlite_utils.Database, sid: int) -> str | None:
    cpt = load_detail(db, sid, verify=False).cpt
    return None if cpt is None else cpt.code


def test_the_first_session_of_a_course_with_its_mt_that_day_is_90867(course_db) -> None:
    db, ids = course_db
    assert _code(db, ids["first"]) == "90867"


def test_a_later_session_is_90868(course_db) -> None:
    db, ids = course_db
    assert _code(db, ids["second"]) == "90868"
    assert _code(db, ids["after"]) == "90868"


def test_a_later_session_on_a_day_with_a_new_mt_is_90869_once_that_day(course_db) -> None:
    db, ids = course_db
    assert _code(db, ids["remeasured"]) == "90869"
    assert _code(db, ids["same_day_again"]) == "90868"  # the re-determination is billed once
    assert _code(db, ids["aborted"]) is None  # nothing delivered: no treatment to code


def test_a_session_without_a_course_has_no_code(course_db) -> None:
    db, ids = course_db
    assert _code(db, ids["no_course"]) is None


def test_codes_and_rules_are_data_with_their_source_marked_unverified() -> None:
    data = load("cpt_codes.json")
    assert set(data["codes"]) == {"90867", "90868", "90869"}
    assert "AMA CPT" in data["source"] and "unverified" in data["source"] and data["verified"] is False
    assert all("source" in entry for entry in data["codes"].values())


def test_the_json_export_carries_the_code_and_still_validates(course_db) -> None:
    db, ids = course_db
    data = session_export(db, ids["remeasured"])
    jsonschema.validate(data, SCHEMA)
    billing = data["session"]["billing"]
    assert billing["cpt_code"] == "90869" and billing["verified"] is False and "AMA CPT" in billing["source"]
    none = session_export(db, ids["no_course"])
    jsonschema.validate(none, SCHEMA)
    assert none["session"]["billing"] is None


def test_the_review_list_csv_has_each_sessions_code(course_db) -> None:
    db, ids = course_db
    out = io.StringIO()
    write_csv(db, find_sessions(db, ReviewFilter(review="all")), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    codes = {int(r["session"]): r["cpt_code"] for r in rows}
    assert codes[ids["first"]] == "90867" and codes[ids["second"]] == "90868"
    assert codes[ids["remeasured"]] == "90869" and codes[ids["no_course"]] == ""


def test_the_review_detail_shows_the_code(qtbot, course_db) -> None:
    from console.ui.review.session_detail import SessionDetailWidget

    db, ids = course_db
    widget = SessionDetailWidget(db, None)
    qtbot.addWidget(widget)
    widget.show_session(ids["first"])
    text = widget.record.toPlainText()
    assert "CPT code" in text and "90867" in text and "not yet checked" in text


def test_the_session_report_carries_the_code(course_db) -> None:
    from console.ui.review.session_report_pdf import report_html

    db, ids = course_db
    html = report_html(load_detail(db, ids["remeasured"], verify=False))
    assert "CPT code" in html and "90869" in html
