"""SessionRunner against the simulator through a real pty: commands, scenarios, the record they leave."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from console.clinic.records import get_patient
from console.session.plan import plan_session
from console.session.runner import SessionRunner
from db.database import open_database
from devices.registry import create_adapter
from devices.sim.faultlog import expected_counts, read_fault_log
from devices.sim.process import SimulatorProcess

from .clinic_setup import clinic

pytestmark = pytest.mark.slow


def wait_until(predicate: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def runner_for(db_path: Path, url: str, protocol: str | None = "itbs") -> SessionRunner:
    pid = clinic(db_path, protocol)
    db = open_database(db_path)
    plan = plan_session(db, get_patient(db, pid), technician="tina")
    db.close()
    return SessionRunner(db_path, create_adapter(url), plan)


def events_of(db_path: Path, sid: int) -> list[tuple[str, str | None, dict]]:
    db = open_database(db_path)
    rows = [(r[0], r[1], json.loads(r[2]) if r[2] else {}) for r in db.execute(
        "SELECT kind, code, detail FROM session_events WHERE session_id = ? ORDER BY id", [sid])]
    db.close()
    return rows


def session_row(db_path: Path, sid: int) -> dict:
    db = open_database(db_path)
    row = db["sessions"].get(sid)
    row["rows"] = db.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [sid]).fetchone()[0]
    db.close()
    return row


def test_pause_resume_and_stop_from_the_console(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    with SimulatorProcess("itbs", speed=20, seed=11) as sim:
        runner = runner_for(db_path, sim.url)
        try:
            sid = runner.open()
            assert runner.start(by="tina").result(timeout=30) is True
            wait_until(lambda: runner.snapshot().pulses_recorded >= 30, "pulses")
            assert runner.pause("Patient asked to pause", by="tina").result(timeout=30) is True
            wait_until(lambda: runner.snapshot().device_state == "PAUSED", "the device to pause")
            held = runner.snapshot().pulses_delivered
            time.sleep(0.3)  # 6 s of device time: a running iTBS would have fired
            snap = runner.snapshot()
            assert snap.state == "paused" and snap.pulses_delivered == held and snap.pauses == 1
            assert runner.resume(by="tina").result(timeout=30) is True
            wait_until(lambda: runner.snapshot().pulses_delivered > held, "pulses after resume")
            runner.stop("Side effect", by="tina").result(timeout=30)
            assert runner.wait_until_ended(30)
            snap = runner.snapshot()
        finally:
            runner.close()
    assert (snap.state, snap.end_status, snap.end_reason) == ("ended", "stopped", "Side effect")
    s = session_row(db_path, sid)
    assert (s["status"], s["end_reason"], s["pauses"]) == ("stopped", "Side effect", 1)
    assert s["rows"] == s["pulses_recorded"] == s["pulses_delivered"] < 600
    kinds = [(k, c) for k, c, _ in events_of(db_path, sid)]
    assert ("pause", None) in kinds and ("resume", None) in kinds and kinds[-1] == ("end", "stopped")
    pause = next(d for k, _, d in events_of(db_path, sid) if k == "pause")
    assert pause == {"reason": "Patient asked to pause", "source": "console"}
    commands = [(c, d["outcome"]) for k, c, d in events_of(db_path, sid) if k == "command"]
    for name in ("SET", "START", "PAUSE", "RESUME", "STOP"):  # each sent through the runner and answered
        assert commands.index((name, "sent")) < commands.index((name, "acknowledged")), commands


def test_drift_tracker_loss_and_overheat_are_recorded_as_they_happened(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    with SimulatorProcess("itbs", speed=100, seed=12,
                          scenarios=("drift", "tracker-loss", "overheat")) as sim:
        runner = runner_for(db_path, sim.url)
        try:
            sid = runner.open()
            runner.start()
            assert runner.wait_until_ended(120)
        finally:
            runner.close()
    s = session_row(db_path, sid)
    assert (s["status"], s["pulses_delivered"], s["rows"]) == ("completed", 600, 600)
    assert s["faults"] == 1 and s["pauses"] >= 1
    assert s["max_distance_mm"] > 3.0 and s["pulses_on_target"] < 600
    events = events_of(db_path, sid)
    alarms = {(c, d["raised"]) for k, c, d in events if k == "alarm"}
    for kind in ("off_target", "tracker_lost", "device_fault"):
        assert {(kind, True), (kind, False)} <= alarms, kind
    assert ("fault", "COIL_OVERTEMP") in [(k, c) for k, c, _ in events]
    assert ("clear", "COIL_OVERTEMP") in [(k, c) for k, c, _ in events]
    db = open_database(db_path)
    where = "SELECT count(*) FROM pulses WHERE session_id = ? AND "
    hidden = db.execute(where + "x IS NULL", [sid]).fetchone()[0]
    off = db.execute(where + "on_target = 0", [sid]).fetchone()[0]
    db.close()
    assert hidden > 0 and off > 0
    assert s["pulses_on_target"] == 600 - hidden - off


def test_unplug_lost_pulses_are_reported_and_never_invented(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    log_path = tmp_path / "faults.jsonl"
    # 1 Hz without rests: the 3 s outage always swallows pulses
    with SimulatorProcess("1hz", speed=300, seed=13, scenarios=("unplug",), link=tmp_path / "ttySIM",
                          fault_log=log_path) as sim:
        runner = runner_for(db_path, sim.url, "1hz")
        try:
            sid = runner.open()
            runner.start()
            assert runner.wait_until_ended(120)
        finally:
            runner.close()
    unplug = next(r for r in read_fault_log(log_path) if r["kind"] == "unplug")
    assert unplug["pulses_lost"] > 0
    s = session_row(db_path, sid)
    assert s["status"] == "completed" and s["pulses_delivered"] == 900
    assert s["rows"] == s["pulses_recorded"] == 900 - unplug["pulses_lost"]
    events = events_of(db_path, sid)
    kinds = [k for k, _, _ in events]
    assert "device_lost" in kinds and "device_restored" in kinds
    missing = [d for k, _, d in events if k == "pulses_missing"]
    assert missing == [{"first": unplug["first_lost_count"], "last": unplug["last_lost_count"],
                            "pulses": unplug["pulses_lost"], "during_outage": True}]


def test_line_noise_is_counted_and_lost_pulses_are_reported(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    log_path = tmp_path / "faults.jsonl"
    with SimulatorProcess("itbs", speed=100, seed=14, scenarios=("noise",), fault_log=log_path) as sim:
        runner = runner_for(db_path, sim.url)
        try:
            sid = runner.open()
            runner.start()
            assert runner.wait_until_ended(120)
        finally:
            runner.close()
    records = read_fault_log(log_path)
    rejected, missing = expected_counts(records)  # the line is noisy until the run's EOS
    s = session_row(db_path, sid)
    assert (s["frames_rejected"], s["frames_missing"]) == (rejected, missing) and rejected > 0
    lost = {r["seq"] for r in records if r.get("type") == "PULSE" and r.get("missing")}
    assert s["status"] == "completed" and s["pulses_delivered"] == 600
    assert s["rows"] == s["pulses_recorded"] == 600 - len(lost)
    reported = sum(d["pulses"] for k, _, d in events_of(db_path, sid) if k == "pulses_missing")
    assert reported == len(lost)
