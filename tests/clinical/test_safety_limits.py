"""Safety limits as data: a protocol outside the clinic's table is refused, and only a physician's
signed override (who, why, when) lets it go on."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console import audit
from console.clinic.protocols import ProtocolSpec, preset
from console.people.permissions import PermissionDenied
from console.people.signing import SignatureRejected
from console.safety import overrides
from console.safety.limits import (
    LimitsFileError,
    check_intensity,
    check_protocol,
    load_limits,
    record_intensity_override,
    record_override,
)
from console.safety.overrides import Scope
from devices.events import ProtocolLoaded
from resources import load_json
from tests.clinical.conftest import PASSWORDS, add_session, open_course

TWENTY_HZ_2S = {
    "name": "20 Hz test",
    "freq_hz": 20,
    "pulses_per_train": 40,
    "trains": 20,
    "iti_s": 28,
    "burst": 1,
}


def test_the_limits_file_cites_its_sources() -> None:
    data = load_json("safety_limits.json")
    assert "Wassermann" in data["train_duration"]["source"] and "Rossi" in data["train_duration"]["source"]
    assert "Chen" in data["inter_train_interval"]["source"]
    assert "not advice" in data["about"] or "no advice" in data["about"]


@pytest.mark.parametrize("key", ["10hz", "dash", "itbs", "1hz", "accel-itbs"])
def test_every_shipped_preset_at_its_default_intensity_is_within_the_limits(key: str) -> None:
    spec = preset(key)
    percent = load_json("protocols.json")["presets"][key]["default_percent_mt"]
    assert check_protocol(load_limits(), spec, percent, round(45 * percent / 100)) == []


def test_a_20hz_protocol_with_trains_longer_than_the_table_allows_is_refused() -> None:
    violations = check_protocol(load_limits(), TWENTY_HZ_2S, 120, 54)
    assert [v.code for v in violations] == ["train_too_long"]
    message = violations[0].message
    assert "2.00 s" in message and "20 Hz" in message and "120 % MT" in message and "1 s" in message
    assert "Wassermann 1998" in message
    # The same trains of 1 s are within the table at 120 % MT.
    assert check_protocol(load_limits(), TWENTY_HZ_2S | {"pulses_per_train": 20}, 120, 54) == []


def test_the_table_is_never_interpolated_between_columns() -> None:
    # 125 % MT reads the 130 % column (0.55 s at 20 Hz), not a value between 1.0 and 0.55.
    one_second = TWENTY_HZ_2S | {"pulses_per_train": 20}
    assert [v.code for v in check_protocol(load_limits(), one_second, 115, 50)] == []
    assert "train_too_long" in [v.code for v in check_protocol(load_limits(), one_second, 125, 50)]


def test_a_device_protocol_event_is_checked_like_a_preset() -> None:
    event = ProtocolLoaded(0, 0.0, "20 Hz from device", 20.0, 40, 20, 28.0, 1)
    assert [v.code for v in check_protocol(load_limits(), event, 120, 54)] == ["train_too_long"]


def test_inter_train_interval_too_short_and_beyond_the_table() -> None:
    limits = load_limits()
    short_rest = preset("10hz")._replace(iti_s=2)
    assert [v.code for v in check_protocol(limits, short_rest, 120, 54)] == ["iti_too_short"]
    fast = {"name": "30 Hz", "freq_hz": 30, "pulses_per_train": 10, "trains": 10, "iti_s": 20}
    assert "outside_table" in [v.code for v in check_protocol(limits, fast, 100, 45)]
    codes = [v.code for v in check_protocol(limits, preset("10hz"), 140, 63)]
    assert "percent_mt_above_clinic_max" in codes and "outside_iti_rules" in codes
    assert [v.code for v in check_protocol(limits, preset("10hz"), 120, 101)] == ["mso_above_max"]


def test_no_rest_between_trains_makes_the_run_one_train() -> None:
    continuous = preset("10hz")._replace(iti_s=0)
    codes = [v.code for v in check_protocol(load_limits(), continuous, 100, 45)]
    assert "train_too_long" in codes and "iti_too_short" in codes


@settings(max_examples=60, deadline=None)
@given(
    freq=st.sampled_from([1, 5, 10, 20, 25]),
    pct=st.integers(80, 120),
    pulses=st.integers(1, 200),
    fewer=st.integers(1, 200),
)
def test_shorter_trains_never_make_a_protocol_fail_the_duration_limit(freq, pct, pulses, fewer) -> None:
    limits = load_limits()
    long = ProtocolSpec("p", freq, pulses, 5, 30.0, 1)
    short = long._replace(pulses_per_train=max(1, pulses - fewer))
    if "train_too_long" not in [v.code for v in check_protocol(limits, long, pct, 50)]:
        assert "train_too_long" not in [v.code for v in check_protocol(limits, short, pct, 50)]


def test_a_broken_clinic_file_is_named_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = load_json("safety_limits.json")
    data["train_duration"]["max_train_s"]["20"] = [1.0, 2.0]
    (tmp_path / "safety_limits.json").write_text(json.dumps(data))
    monkeypatch.setenv("TMS_CONSOLE_RESOURCES", str(tmp_path))
    with pytest.raises(LimitsFileError, match="20 Hz row has 2 values for 14 columns"):
        load_limits()


def test_the_override_path_records_who_and_why(db, people, patient) -> None:
    course = open_course(db, patient.id)
    violations = check_protocol(load_limits(), TWENTY_HZ_2S, 120, 54)
    with pytest.raises(PermissionDenied):
        record_override(db, people["tom"], PASSWORDS["tom"], ("course", course.id), violations, "in a hurry")
    with pytest.raises(PermissionDenied):  # the lead technician neither (issue 14, item 7)
        record_override(db, people["sue"], PASSWORDS["sue"], ("course", course.id), violations, "trial")
    with pytest.raises(SignatureRejected):
        record_override(
            db, people["phil"], "not-his-password", ("course", course.id), violations, "protocol X"
        )
    assert db.execute("SELECT count(*) FROM overrides").fetchone()[0] == 0

    reason = "Research protocol 2026-07 approved by the ethics board; EEG monitoring in the room"
    override_id = record_override(
        db, people["phil"], PASSWORDS["phil"], ("course", course.id), violations, reason
    )

    [o] = overrides.for_course(db, course.id)
    assert (o.id, o.kind, o.by_user, o.by_role, o.signed, o.reason) == (
        override_id,
        "safety_limit",
        "phil",
        "physician",
        True,
        reason,
    )
    assert o.violations[0]["code"] == "train_too_long" and o.at
    [row] = audit.history(db, "override", override_id)
    assert row["actor"] == "phil" and row["new"]["reason"] == reason

    session_id = add_session(db, course, datetime.now(), status="recording", pulses=0)
    overrides.attach_to_session(db, [override_id], session_id)
    assert [x.id for x in overrides.for_session(db, session_id)] == [override_id]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE overrides SET reason = 'changed' WHERE id = ?", [override_id])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE overrides SET session_id = NULL WHERE id = ?", [override_id])


def test_an_override_needs_a_reason_and_something_to_override(db, people, patient) -> None:
    course = open_course(db, patient.id)
    violations = check_protocol(load_limits(), TWENTY_HZ_2S, 120, 54)
    with pytest.raises(ValueError, match="reason"):
        record_override(db, people["phil"], PASSWORDS["phil"], Scope.course(course.id), violations, "  ")
    with pytest.raises(ValueError, match="nothing to override"):
        record_override(db, people["phil"], PASSWORDS["phil"], Scope.course(course.id), [], "why not")


def test_intensity_differing_from_the_prescription_needs_the_technicians_reason(db, people, patient) -> None:
    course = open_course(db, patient.id)
    assert check_intensity(54, 54) == []
    [v] = check_intensity(54, 50)
    assert "50 % MSO" in v.message and "54 % MSO" in v.message
    override_id = record_intensity_override(
        db,
        people["tom"],
        ("course", course.id),
        54,
        50,
        "patient asked to stay at 50 after scalp pain yesterday",
    )
    [o] = overrides.for_course(db, course.id)
    assert o.id == override_id and o.kind == "intensity" and o.by_user == "tom" and not o.signed
