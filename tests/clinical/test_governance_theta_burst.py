"""Issue 14, item 5: theta-burst limits that a medical director can sign.

iTBS and cTBS have limits of their own (iTBS: 2 s trains at up to 120 % of resting MT; cTBS:
the medical director's ceiling, shipped conservative and marked unverified), a patient's
pulses in one day are capped, the citations are right, and a device model or coil type may
have a table of its own with the default for every other.

The module attributes are looked up inside each test, so that on code without them each test
fails on its own rather than the whole file failing to import.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from console.clinic import records as clinic
from console.clinic.protocols import ProtocolSpec
from console.safety import limits, start_gate
from resources import load_json
from tests.clinical.conftest import add_session, open_course
from tests.clinical.test_start_gate import ready, screened

CTBS_600 = ProtocolSpec("cTBS 600", 5.0, 600, 1, 0.0, 3)  # one 40 s train
CTBS_1800 = ProtocolSpec("cTBS 1800", 5.0, 1800, 1, 0.0, 3)
ITBS_40S_TRAINS = ProtocolSpec("iTBS, 40 s trains", 5.0, 600, 3, 8.0, 3)


def codes(found) -> list[str]:
    return [v.code for v in found]


def test_ctbs_of_600_pulses_at_120_percent_of_resting_mt_is_refused() -> None:
    found = limits.check_protocol(limits.load_limits(), CTBS_600, 120, 54)
    assert "patterned_percent_mt" in codes(found)
    [message] = [v.message for v in found if v.code == "patterned_percent_mt"]
    assert "continuous theta burst (cTBS)" in message and "unverified: set by the medical director" in message
    assert {"patterned_percent_mt", "too_many_pulses"} <= set(
        codes(limits.check_protocol(limits.load_limits(), CTBS_1800, 120, 54)))


def test_ctbs_is_refused_by_the_gate_too(db, people, patient) -> None:
    course = ready(db, people, patient, protocol="itbs")
    gate = start_gate.gate_for_course(db, course.id, protocol=CTBS_600)
    assert not gate.can_start and "patterned_percent_mt" in codes(gate.limit_violations)


def test_a_40_second_theta_burst_train_is_refused() -> None:
    found = limits.check_protocol(limits.load_limits(), ITBS_40S_TRAINS, 100, 45)
    assert codes(found) == ["train_too_long"]
    assert "intermittent theta burst (iTBS)" in found[0].message and "2 s" in found[0].message


def test_itbs_at_120_percent_with_2_second_trains_is_within_the_limits() -> None:
    itbs = ProtocolSpec("iTBS", 5.0, 30, 20, 8.0, 3)
    assert limits.check_protocol(limits.load_limits(), itbs, 120, 54) == []
    assert codes(limits.check_protocol(limits.load_limits(), itbs, 121, 55)) == [
        "percent_mt_above_clinic_max", "patterned_percent_mt"]


def test_the_per_day_pulse_cap_refuses_a_session_that_would_exceed_it(db, people, patient) -> None:
    now = datetime.combine(datetime.now().date(), time(12, 0)).astimezone()
    screened(db, people, patient)
    clinic.record_motor_threshold(db, patient.id, 45, "EMG", now - timedelta(hours=4), "tom")
    course = open_course(db, patient.id, protocol="accel-itbs", percent_mt=90, schedule="accelerated")
    daily = limits.load_limits().daily
    assert daily is not None
    cap = daily.max_pulses
    add_session(db, course, now - timedelta(days=1), pulses=cap)  # yesterday's do not count
    add_session(db, course, now - timedelta(hours=3), pulses=cap - 1800)
    assert "daily_pulses" not in codes(start_gate.gate_for_course(db, course.id, now=now).limit_violations)
    add_session(db, course, now - timedelta(hours=2), pulses=1)
    gate = start_gate.gate_for_course(db, course.id, now=now)
    [over] = [v for v in gate.limit_violations if v.code == "daily_pulses"]
    assert over.actual == cap + 1 and over.limit == cap and not gate.can_start
    assert f"{cap:,}" in over.message and "Cole 2020" in over.message


def _clinic_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tables: list[dict]) -> None:
    data = load_json("safety_limits.json")
    data["equipment"]["tables"] = tables
    (tmp_path / "safety_limits.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("TMS_CONSOLE_RESOURCES", str(tmp_path))


def test_a_coil_specific_table_is_used_when_the_coil_matches(
    db, people, patient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clinic_copy(tmp_path, monkeypatch, [
        {"name": "B65 coil", "coil": "B65", "cite": "the clinic's policy for the B65 coil",
         "clinic_max_percent_mt": 110},
        {"name": "R30 with B65", "device": "MagPro R30", "coil": "B65", "cite": "the clinic's policy",
         "clinic_max_percent_mt": 100},
    ])
    assert limits.load_limits().table_name == "default"
    assert limits.load_limits(coil="b65").clinic_max_percent_mt == 110  # letter case ignored
    both = limits.load_limits(device="MagPro R30", coil="B65")
    assert (both.table_name, both.clinic_max_percent_mt) == ("R30 with B65", 100)  # the most specific
    assert limits.load_limits(device="Other", coil="H1").clinic_max_percent_mt == 120

    course = ready(db, people, patient, percent_mt=115)
    assert start_gate.gate_for_course(db, course.id, coil="H1").can_start
    gate = start_gate.gate_for_course(db, course.id, coil="B65")
    assert codes(gate.limit_violations) == ["percent_mt_above_clinic_max"]
    assert "110 % MT" in gate.limit_violations[0].message


def test_the_shipped_file_cites_its_theta_burst_sources_correctly() -> None:
    data = load_json("safety_limits.json")
    tbs = data["theta_burst"]
    sources = tbs["itbs"]["source"] + tbs["ctbs"]["source"]
    assert "J Clin Neurophysiol 2011;28:67-74" in sources and "122:1237" not in json.dumps(data)
    assert "80 % of active MT" in sources
    assert tbs["itbs"]["max_train_s"] == 2 and tbs["itbs"]["max_percent_mt"] == 120
    assert tbs["ctbs"]["cite"].startswith("unverified: set by the medical director")
    assert "cite" in data["daily_pulses"] and "source" in data["daily_pulses"]
    assert "must verify" in data["about"] and "unverified" in data["about"]  # the banner stays
