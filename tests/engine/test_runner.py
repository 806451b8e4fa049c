"""SessionRunner through the real replay adapter, writer and SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.clinic.records import create_patient, open_course, record_motor_threshold
from console.review.export import session_export
from console.session.plan import plan_session
from console.session.recording_terms import InvalidAction
from console.session.runner import SessionPlan, SessionRunner
from console.session.snapshot import LiveSnapshot
from db.database import open_database
from db.session_lock import is_session_live
from devices.registry import create_adapter

from .capture import TARGET, write_run


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    open_database(path).close()
    return path


def new_patient(db_path: Path, with_course: bool = True) -> tuple[int, SessionPlan]:
    db = open_database(db_path)
    try:
        p = create_patient(db, "P-100", "Jane Q. Doe")
        if with_course:
            keys = ("x", "y", "z", "qw", "qx", "qy", "qz")
            open_course(db, p.id, "itbs", 120.0, target_pose=dict(zip(keys, TARGET, strict=True)))
            record_motor_threshold(db, p.id, 52.0, "EMG")
            return p.id, plan_session(db, p, technician="Tina Tech")
        # The runner itself records without a course (plan_session refuses to plan one: issue 14).
        return p.id, SessionPlan(patient_id=p.id, technician="Tina Tech")
    finally:
        db.close()


def record(db_path: Path, capture: Path, plan: SessionPlan) -> tuple[SessionRunner, LiveSnapshot]:
    runner = SessionRunner(db_path, create_adapter(f"replay://{capture}"), plan)
    try:
        runner.open()
        runner.start(by="Tina Tech").result(timeout=10)
        assert runner.wait_until_ended(60), "the session did not end"
        snap = runner.snapshot()
    finally:
        runner.close()
    return runner, snap


def test_a_replayed_itbs_session_is_recorded_completely(db_path: Path, tmp_path: Path) -> None:
    _, plan = new_patient(db_path)
    assert plan.prescribed_mso == 62 and plan.number_in_course == 1 and plan.target is not None
    runner, snap = record(db_path, write_run(tmp_path / "itbs.tscp"), plan)
    assert snap.state == "ended" and snap.end_status == "completed"
    db = open_database(db_path)
    s = db["sessions"].get(runner.session_id)
    assert s["status"] == "completed" and s["ended_at"] is not None
    assert (s["pulses_delivered"], s["pulses_recorded"], s["trains_delivered"]) == (600, 600, 20)
    assert s["pulses_on_target"] == 600 and s["technician"] == "Tina Tech"
    assert s["device_serial"] == "SN0001" and s["protocol"] == "iTBS left DLPFC"
    assert s["duration_s"] == pytest.approx(192.0, abs=0.2)
    assert s["frames_rejected"] == 0 and s["frames_received"] > 6000
    assert db.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [s["id"]]).fetchone()[0] == 600
    poses = db.execute("SELECT count(*) FROM poses WHERE session_id = ?", [s["id"]]).fetchone()[0]
    assert 150 <= poses <= 260  # still coil: about one a second
    assert not is_session_live(db_path, s["id"])
    kinds = [r[0] for r in db.execute("SELECT kind FROM session_events WHERE session_id = ?", [s["id"]])]
    assert kinds[-1] == "end" and "protocol" in kinds and "run_started" in kinds
    data = session_export(db, s["id"])
    assert len(data["pulses"]) == 600 and data["summary"]["pulses_recorded"] == 600
    db.close()


def test_lost_pulses_are_reported_not_invented(db_path: Path, tmp_path: Path) -> None:
    _, plan = new_patient(db_path)
    capture = write_run(tmp_path / "gaps.tscp", drop_pulses=(10, 11, 600))
    runner, _ = record(db_path, capture, plan)
    db = open_database(db_path)
    s = db["sessions"].get(runner.session_id)
    assert (s["pulses_delivered"], s["pulses_recorded"]) == (600, 597)
    missing = [json.loads(r[0]) for r in db.execute(
        "SELECT detail FROM session_events WHERE session_id = ? AND kind = 'pulses_missing'", [s["id"]])]
    assert missing == [{"first": 10, "last": 11, "pulses": 2}, {"first": 600, "last": 600, "pulses": 1}]
    db.close()


def test_a_capture_without_an_end_is_stopped_on_close_with_the_reason(db_path: Path, tmp_path: Path) -> None:
    _, plan = new_patient(db_path, with_course=False)
    # played at the device's pace (about 12 s), so it is still going when closed: a capture that runs
    # out ends itself (tests/storage/test_replay_end.py)
    from console.clinic.protocols import ProtocolSpec

    capture = write_run(tmp_path / "open.tscp", ProtocolSpec("short", 5.0, 5, 4, 2.0, 1), end=None)
    runner = SessionRunner(db_path, create_adapter(f"replay://{capture}?realtime=1"), plan)
    try:
        runner.open()
        runner.start()
        from tests.devices.pty_device import wait_until

        wait_until(lambda: runner.snapshot().pulses_recorded >= 1, what="a pulse")
        assert is_session_live(db_path, runner.session_id)
        runner.add_note("Patient said the clicks were loud", by="Tina Tech")
        runner.add_side_effect("headache", 2, by="Tina Tech")
        with pytest.raises(InvalidAction):
            runner.add_side_effect("headache", 12)
    finally:
        runner.close("operator")
    db = open_database(db_path)
    s = db["sessions"].get(runner.session_id)
    assert (s["status"], s["end_reason"]) == ("stopped", "operator") and 1 <= s["pulses_recorded"] < 20
    assert s["pulses_on_target"] is None  # no course: no target to be on
    kinds = [r[0] for r in db.execute("SELECT kind FROM session_events WHERE session_id = ?", [s["id"]])]
    assert "note" in kinds and "side_effect" in kinds
    db.close()
