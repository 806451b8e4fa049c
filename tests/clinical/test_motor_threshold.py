"""Motor-threshold flags: older than the clinic's re-measure interval, changed by more than 10 %."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from console import audit
from console.clinic import patient_records, settings
from console.clinic import records as clinic
from console.clinic.motor_threshold import mt_flags, validate_mt
from console.errors import ClinicError


def measure(db, patient_id: int, mso: float, days_ago: int) -> None:
    when = datetime.now() - timedelta(days=days_ago)
    clinic.record_motor_threshold(db, patient_id, mso, "EMG", when, "tom")


def test_no_threshold_is_flagged(db, patient) -> None:
    assert mt_flags(db, patient.id, date.today()) == [
        "No motor threshold has been recorded: measure it before the first session."
    ]


def test_a_recent_steady_threshold_has_no_flags(db, patient) -> None:
    measure(db, patient.id, 50, 20)
    measure(db, patient.id, 54, 2)  # +8 %
    assert mt_flags(db, patient.id, date.today()) == []


def test_older_than_the_remeasure_interval(db, people, patient) -> None:
    measure(db, patient.id, 50, 8)
    [flag] = mt_flags(db, patient.id, date.today())
    assert "8 days old, older than 7 days" in flag  # weekly by default (CPT 90869; issue 14, item 6)
    settings.set_setting(db, "mt_remeasure_days", 35, "ada")
    assert mt_flags(db, patient.id, date.today()) == []


@pytest.mark.parametrize("latest, sign", [(56, "+12 %"), (44, "-12 %")])
def test_a_change_of_more_than_10_percent_is_flagged(db, patient, latest, sign) -> None:
    measure(db, patient.id, 50, 10)
    measure(db, patient.id, latest, 1)
    [flag] = mt_flags(db, patient.id, date.today())
    assert sign in flag and "more than 10 %" in flag and f"50 to {latest}" in flag


@pytest.mark.parametrize("typed", ["abc", "", "0", "0.5", "101", "150", "nan", None])
def test_a_threshold_out_of_range_is_refused_plainly(typed) -> None:
    with pytest.raises(ClinicError, match="motor threshold"):
        validate_mt(typed)


def test_typed_thresholds_accept_a_decimal_comma() -> None:
    assert validate_mt("52,5") == 52.5 and validate_mt(48) == 48.0


def test_recording_through_the_records_door_is_audited(db, people, patient) -> None:
    mt = patient_records.record_motor_threshold(db, people["tom"], patient.id, "52", "visual")
    assert (mt.mso, mt.method, mt.measured_by) == (52.0, "visual", "tom")
    [row] = audit.history(db, "motor_threshold", mt.id)
    assert row["actor"] == "tom" and row["new"]["mso"] == 52.0


def test_the_change_flag_threshold_is_a_clinic_setting(db, people, patient) -> None:
    measure(db, patient.id, 50, 10)
    measure(db, patient.id, 56, 1)
    settings.set_setting(db, "mt_change_flag_percent", 15, "ada")
    assert mt_flags(db, patient.id, date.today()) == []
