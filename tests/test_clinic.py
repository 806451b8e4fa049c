"""The clinic's records: patients, courses, motor thresholds, prescriptions, settings."""

from __future__ import annotations

import math
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.clinic import records as clinic
from console.clinic.settings import all_settings, get_setting, set_setting
from console.errors import ClinicError
from db.database import new_uuid, open_database, utc_now


@pytest.fixture
def db(tmp_path: Path):
    database = open_database(tmp_path / "clinic.db")
    yield database
    database.close()


# -- patients --------------------------------------------------------------------

@pytest.mark.parametrize(("name", "initials"), [
    ("Jane Doe", "JD"), ("Jane Q. Doe", "JQD"), ("Doe, Jane", "JD"), ("mary-jane roe", "MJR"),
    ("  Émile   Zola ", "ÉZ"), ("O'Brien Sean", "OS"),
])
def test_initials(name: str, initials: str) -> None:
    assert clinic.initials_of(name) == initials


def test_patient_is_created_and_found_by_clinic_id(db) -> None:
    p = clinic.create_patient(db, " MRN-17 ", "  Jane   Doe ", "1980-04-23")
    assert (p.clinic_id, p.name, p.initials, p.date_of_birth) == ("MRN-17", "Jane Doe", "JD", "1980-04-23")
    assert len(p.uuid) == 36
    assert clinic.get_patient(db, p.id) == p
    assert clinic.find_patient(db, "mrn-17") == p  # capitals do not make another patient
    assert clinic.find_patient(db, "MRN-18") is None


def test_clinic_id_is_unique_regardless_of_capitals(db) -> None:
    clinic.create_patient(db, "ab12", "Jane Doe")
    with pytest.raises(ClinicError, match="clinic id ab12 already exists"):
        clinic.create_patient(db, "AB12", "John Roe")
    assert db.execute("SELECT count(*) FROM patients").fetchone()[0] == 1


@pytest.mark.parametrize(("clinic_id", "name", "dob", "message"), [
    ("", "Jane Doe", None, "clinic id"),
    ("M1", "   ", None, "name"),
    ("M1", "Jane Doe", "23/04/1980", "not a date"),
    ("M1", "Jane Doe", (date.today() + timedelta(days=1)).isoformat(), "future"),
    ("M1", "Jane Doe", "1850-01-01", "before 1900"),
])
def test_bad_patient_details_get_a_clear_message(db, clinic_id, name, dob, message) -> None:
    with pytest.raises(ClinicError, match=message):
        clinic.create_patient(db, clinic_id, name, dob)


def test_unknown_patient_is_a_clinic_error(db) -> None:
    with pytest.raises(ClinicError, match="no patient"):
        clinic.get_patient(db, 404)


def test_search_by_clinic_id_or_name_ignoring_case_and_accents(db) -> None:
    jane = clinic.create_patient(db, "MRN-100", "Jane Doe")
    emile = clinic.create_patient(db, "MRN-200", "Émile Zola")
    exact = clinic.create_patient(db, "doe", "Zed Smith")
    assert clinic.search_patients(db, "emile") == [emile]
    assert clinic.search_patients(db, "ZOLA") == [emile]
    assert clinic.search_patients(db, "mrn-1") == [jane]
    assert clinic.search_patients(db, "jane doe") == [jane]  # every word must match
    assert clinic.search_patients(db, "doe") == [exact, jane]  # an exact clinic id first
    assert clinic.search_patients(db, "nobody") == []
    assert clinic.search_patients(db, "") == [emile, jane, exact]  # by name, accents folded
    assert len(clinic.search_patients(db, "", limit=2)) == 2
    assert clinic.search_patients(db, "%") == []  # no wildcards


# -- courses ---------------------------------------------------------------------

def test_course_is_opened_with_its_prescription_details(db) -> None:
    p = clinic.create_patient(db, "M1", "Jane Doe")
    pose = {"x": -42.1, "y": 38.5, "z": 61.2, "qw": 1.0, "qx": 0.0, "qy": 0.0, "qz": 0.0}
    c = clinic.open_course(db, p.id, "10hz", 120, targeting_method="neuronavigation", target_pose=pose)
    assert (c.protocol, c.percent_mt, c.planned_sessions) == ("10hz", 120.0, 36)
    assert (c.schedule, c.status) == ("acute", "open")
    assert c.target == "left DLPFC" and c.target_pose == pose and c.indication == "major depressive disorder"
    assert clinic.get_course(db, c.id) == c
    assert clinic.active_course(db, p.id) == c


def test_one_open_course_at_a_time(db) -> None:
    p = clinic.create_patient(db, "M1", "Jane Doe")
    first = clinic.open_course(db, p.id, "10hz", 120)
    with pytest.raises(ClinicError, match="already has an open course"):
        clinic.open_course(db, p.id, "itbs", 120)
    closed = clinic.close_course(db, first.id, "acute course completed")
    assert closed.status == "closed" and closed.close_reason == "acute course completed" and closed.closed_at
    assert clinic.active_course(db, p.id) is None
    second = clinic.open_course(db, p.id, "10hz", 120, planned_sessions=12, schedule="maintenance")
    assert clinic.active_course(db, p.id) == second
    assert [c.id for c in clinic.courses_of(db, p.id)] == [second.id, first.id]
    with pytest.raises(ClinicError, match="already closed"):
        clinic.close_course(db, first.id, "again")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"protocol": "20hz"}, "Unknown protocol"),
    ({"percent_mt": 0}, "above 0"),
    ({"percent_mt": 1200}, "at most 200"),
    ({"planned_sessions": 0}, "whole number"),
    ({"planned_sessions": 2.5}, "whole number"),
    ({"schedule": "weekly"}, "Unknown schedule"),
    ({"target_pose": {"x": 1}}, "needs numbers"),
    ({"target_pose": {"x": 0, "y": 0, "z": 0, "qw": 2, "qx": 0, "qy": 0, "qz": 0}}, "unit quaternion"),
])
def test_bad_course_details_get_a_clear_message(db, kwargs, message) -> None:
    p = clinic.create_patient(db, "M1", "Jane Doe")
    args = {"protocol": "10hz", "percent_mt": 120, **kwargs}
    with pytest.raises(ClinicError, match=message):
        clinic.open_course(db, p.id, **args)
    assert clinic.active_course(db, p.id) is None


# -- motor thresholds and the prescription -----------------------------------------

def test_motor_threshold_history_and_latest_by_measurement_time(db) -> None:
    p = clinic.create_patient(db, "M1", "Jane Doe")
    recent = clinic.record_motor_threshold(db, p.id, 45, "emg", "2026-02-01T10:00:00+00:00", "tech1")
    # Typed in later, measured earlier:
    older = clinic.record_motor_threshold(db, p.id, 50, "visual", "2026-01-01T10:00:00+00:00")
    assert recent.method == "EMG" and recent.measured_by == "tech1"
    assert recent.measured_at == "2026-02-01T10:00:00.000+00:00"
    assert clinic.latest_motor_threshold(db, p.id) == recent
    assert clinic.motor_thresholds(db, p.id) == [older, recent]
    now = clinic.record_motor_threshold(db, p.id, 47.5, "EMG")
    assert clinic.latest_motor_threshold(db, p.id) == now


@pytest.mark.parametrize(("mso", "method", "when", "message"), [
    (0, "EMG", None, "above 0"), (101, "EMG", None, "at most 100"), ("50", "EMG", None, "number"),
    (50, "guess", None, "EMG, visual"), (50, "EMG", "2999-01-01T00:00:00+00:00", "future"),
    (50, "EMG", "last tuesday", "ISO-8601"),
])
def test_bad_motor_threshold_gets_a_clear_message(db, mso, method, when, message) -> None:
    p = clinic.create_patient(db, "M1", "Jane Doe")
    with pytest.raises(ClinicError, match=message):
        clinic.record_motor_threshold(db, p.id, mso, method, when)
    assert clinic.latest_motor_threshold(db, p.id) is None


@pytest.mark.parametrize(("mt", "percent", "mso"), [
    (45, 110, 49),     # 49.5 rounds down: never above the prescription (issue 14, item 1)
    (50, 120, 60),
    (48, 120, 57),     # 57.6
    (55, 115, 63),     # 63.25
    (41, 105, 43),     # 43.05
    (33, 150, 49),     # 49.5 again
    (47.5, 120, 57),   # 57.0 exactly
    (57, 120, 68),     # 68.4: 119.3 % MT delivered, not 120.9
    (70, 150, 105),    # above the device maximum: reported, not capped
])
def test_prescribed_intensity_is_rounded_down(mt, percent, mso) -> None:
    assert clinic.prescribed_mso(mt, percent) == mso


@given(mt_tenths=st.integers(1, 1000), percent_tenths=st.integers(1, 2000))
def test_prescribed_intensity_matches_exact_arithmetic(mt_tenths: int, percent_tenths: int) -> None:
    # Values as typed (one decimal): the result must equal exact rational rounding, down.
    exact = Fraction(mt_tenths, 10) * Fraction(percent_tenths, 10) / 100
    expected = math.floor(exact)
    assert clinic.prescribed_mso(mt_tenths / 10, percent_tenths / 10) == expected


def test_prescription_follows_the_latest_threshold(db) -> None:
    p = clinic.create_patient(db, "M1", "Jane Doe")
    c = clinic.open_course(db, p.id, "10hz", 110)
    none_yet = clinic.prescription(db, c.id)
    assert (none_yet.mso, none_yet.mt_mso, none_yet.deliverable) == (None, None, False)
    clinic.record_motor_threshold(db, p.id, 45, "EMG", "2026-01-01T09:00:00+00:00")
    expected = clinic.Prescription(45.0, 110.0, 49, "2026-01-01T09:00:00.000+00:00")
    assert clinic.prescription(db, c.id) == expected
    clinic.record_motor_threshold(db, p.id, 60, "EMG", "2026-01-29T09:00:00+00:00")
    rx = clinic.prescription(db, c.id)
    assert (rx.mt_mso, rx.mso, rx.deliverable) == (60.0, 66, True)


def test_next_session_number_counts_sessions_that_stimulated(db) -> None:
    p = clinic.create_patient(db, "M1", "Jane Doe")
    c = clinic.open_course(db, p.id, "10hz", 120)
    assert clinic.next_session_number(db, c.id) == 1

    def session(status: str, delivered: int, pulse_rows: int = 0) -> None:
        sid = db["sessions"].insert({"uuid": new_uuid(), "patient_id": p.id, "course_id": c.id,
                                     "started_at": utc_now(), "device_url": "sim://",
                                     "pulses_delivered": delivered}).last_pk
        for n in range(1, pulse_rows + 1):
            db["pulses"].insert({"session_id": sid, "count": n, "device_t_ms": n, "mso": 50})
        if status != "recording":
            db["sessions"].update(sid, {"status": status})

    session("completed", 3000)
    session("aborted", 0)              # ended before any pulse: does not count
    session("stopped", 1200)           # partial: counts
    session("interrupted", 0, 15)      # counters lagged, but pulses were stored: counts
    assert clinic.next_session_number(db, c.id) == 4


# -- settings --------------------------------------------------------------------

def test_settings_have_defaults_until_the_clinic_chooses(db, fast_hasher) -> None:
    from console.people.admin import create_user  # settings are changed by admins' accounts (issue 15)
    create_user(db, create_user(db, None, "admin", "Ada Admin", "admin", "correct horse battery"),
                "admin2", "Bo Admin", "admin", "battery staple horse")
    values = all_settings(db)
    assert values["tol_distance_mm"] == 3.0 and values["tol_angle_deg"] == 3.0
    assert values["idle_lock_minutes"] == 10 and values["mt_remeasure_days"] == 7
    assert values["note_show_full_name"] is False
    assert (values["pose_thin_mm"], values["pose_thin_deg"], values["pose_keep_hz"]) == (0.5, 0.5, 1)
    assert values["clinic_name"] == "" and values["clinic_phone"] == ""
    set_setting(db, "tol_distance_mm", 2, "admin")
    set_setting(db, "note_show_full_name", True, "admin")
    set_setting(db, "clinic_name", "  Lakeside TMS ", "admin")
    set_setting(db, "tol_distance_mm", 2.5, "admin2")
    assert get_setting(db, "tol_distance_mm") == 2.5
    assert get_setting(db, "note_show_full_name") is True
    assert get_setting(db, "clinic_name") == "Lakeside TMS"
    who = db.execute("SELECT changed_by FROM settings WHERE key = 'tol_distance_mm'").fetchone()[0]
    assert who == "admin2"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("tol_distance_mm", 0, "from 0.5 to 20"), ("tol_distance_mm", "3", "number"),
    ("idle_lock_minutes", 2.5, "whole number"), ("note_show_full_name", 1, "on or off"),
    ("clinic_phone", "x" * 41, "at most 40"), ("no_such_key", 1, "no clinic setting"),
    ("tol_angle_deg", float("nan"), "number"),
])
def test_bad_setting_is_refused_with_a_clear_message(db, key, value, message) -> None:
    with pytest.raises(ClinicError, match=message):
        set_setting(db, key, value, "admin")


def test_setting_changes_need_a_named_user(db) -> None:
    with pytest.raises(ClinicError, match="named user"):
        set_setting(db, "tol_distance_mm", 2.0, " ")


def test_a_stored_value_no_longer_allowed_falls_back_to_the_default(db) -> None:
    db.execute("INSERT INTO settings (key, value, changed_at) VALUES ('tol_angle_deg', '999', ?)",
               [utc_now()])
    assert get_setting(db, "tol_angle_deg") == 3.0
