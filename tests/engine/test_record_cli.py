"""The record command end to end: simulator -> real pty -> pyserial -> recorder -> real SQLite file."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import jsonschema
import pytest

from console.review.export import session_export
from db.database import new_uuid, open_database, utc_now
from devices.sim.process import SimulatorProcess
from tests.conftest import SHARED

from .capture import write_run
from .clinic_setup import clinic, record_process, session_line


def login_as_tina(db_path: Path) -> tuple[str, str]:
    """A technician's own account: the session's record names who recorded it (issue 15)."""
    from console.people import passwords
    from console.people.admin import create_user
    from console.people.user import get_user
    from tests.conftest import fast_password_hasher

    db = open_database(db_path)
    saved, passwords.HASHER = passwords.HASHER, fast_password_hasher()
    try:
        admin = get_user(db, "setup-admin")
        create_user(db, admin, "tina", "Tina Tech", "technician", "tina-pass-1")
    finally:
        passwords.HASHER = saved
        db.close()
    return "tina", "tina-pass-1"

SCHEMA = json.loads((SHARED / "protocol" / "session-export.schema.json").read_text())
pytestmark = pytest.mark.slow


def finish(proc, timeout: float = 120) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def db_size(db_path: Path) -> int:
    db = open_database(db_path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return db_path.stat().st_size


def test_a_full_itbs_session_is_recorded_and_exports_valid(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "itbs")
    with SimulatorProcess("itbs", speed=100, seed=2) as sim:
        proc = record_process(db_path, sim.url, login=login_as_tina(db_path))
        sid = session_line(proc)
        assert proc.poll() is None  # SESSION comes at once, not at the end
        out = finish(proc)
    assert "ENDED completed pulses 600/600" in out
    db = open_database(db_path)
    s = db["sessions"].get(sid)
    assert (s["status"], s["pulses_planned"], s["pulses_delivered"], s["pulses_recorded"]) == (
        "completed", 600, 600, 600)
    assert (s["trains_delivered"], s["prescribed_mso"], s["number_in_course"]) == (20, 62, 1)
    assert s["duration_s"] == pytest.approx(192.0, abs=1.0)
    assert s["pulses_on_target"] == 600 and s["max_distance_mm"] < 3.0
    assert s["frames_rejected"] == 0 and s["frames_missing"] == 0
    counts = [r[0] for r in db.execute("SELECT count FROM pulses WHERE session_id = ? ORDER BY count", [sid])]
    assert counts == list(range(1, 601))
    data = session_export(db, sid)
    jsonschema.validate(data, SCHEMA)
    assert data["summary"]["pulses_recorded"] == 600 and data["session"]["technician"] == "tina"
    db.close()


def test_a_full_10hz_session_stays_under_a_megabyte(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "10hz")
    before = db_size(db_path)
    with SimulatorProcess("10hz", speed=1000, seed=5, pose_hz=30) as sim:
        proc = record_process(db_path, sim.url)
        sid = session_line(proc)
        finish(proc, timeout=180)
    grew = db_size(db_path) - before
    db = open_database(db_path)
    s = db["sessions"].get(sid)
    assert (s["status"], s["pulses_delivered"], s["pulses_recorded"], s["trains_delivered"]) == (
        "completed", 3000, 3000, 75)
    assert db.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [sid]).fetchone()[0] == 3000
    jsonschema.validate(session_export(db, sid), SCHEMA)
    db.close()
    assert grew < 1_000_000, f"a 37.5-minute session grew the database by {grew} bytes"


def test_ctrl_c_stops_the_session_as_operator_and_exits_0(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "itbs")
    with SimulatorProcess("itbs", speed=5, seed=3) as sim:
        proc = record_process(db_path, sim.url)
        sid = session_line(proc)
        db = open_database(db_path)
        deadline = time.monotonic() + 60
        while db.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [sid]).fetchone()[0] < 30:
            assert time.monotonic() < deadline, "no pulses recorded"
            time.sleep(0.05)
        db.close()
        proc.send_signal(signal.SIGINT)
        out = finish(proc, timeout=60)
    assert "ENDED stopped" in out
    db = open_database(db_path)
    s = db["sessions"].get(sid)
    assert (s["status"], s["end_reason"]) == ("stopped", "operator")
    rows = db.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [sid]).fetchone()[0]
    assert 30 <= rows == s["pulses_recorded"] < 600
    db.close()


def test_a_recording_only_device_arms_and_records_when_it_starts_itself(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    pid = clinic(db_path, None, clinic_id="OTHER-1")
    treated = clinic(db_path, "itbs", clinic_id="DEMO-7")  # a course, an MT and a screening: it may start
    db = open_database(db_path)
    crashed = db["sessions"].insert({  # left in "recording" by a crash, nobody holds its lock
        "uuid": new_uuid(), "patient_id": pid, "started_at": utc_now(), "device_url": "sim://",
        "status": "recording"}).last_pk
    db.close()
    with SimulatorProcess("itbs", speed=200, seed=4, no_commands=True) as sim:
        proc = record_process(db_path, sim.url, clinic_id="DEMO-7")
        sid = session_line(proc)
        finish(proc)
    db = open_database(db_path)
    assert db["sessions"].get(crashed)["status"] == "interrupted"  # recovery ran at start-up
    s = db["sessions"].get(sid)
    assert (s["status"], s["pulses_recorded"], s["patient_id"]) == ("completed", 600, treated)
    assert s["course_id"] is not None
    armed = db.execute(
        "SELECT detail FROM session_events WHERE session_id = ? AND kind = 'armed'", [sid]).fetchone()
    assert armed is None or json.loads(armed[0])["commanded"] is False
    db.close()


def test_what_prevents_recording_is_one_clear_line_and_changes_nothing(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, None)
    capture = write_run(tmp_path / "run.tscp")
    for url, clinic_id, extra, words in (
        ("nosuch://x", "P-1", (), "nosuch"),
        (f"tscp+serial://{tmp_path}/ttyNONE", "P-1", (), "ttyNONE"),
        (f"tscp+serial://{tmp_path}/ttyNONE", "NOBODY", (), "NOBODY"),
        (f"replay://{capture}", "P-1", ("--course", "999"), "999"),
    ):
        proc = record_process(db_path, url, *extra, clinic_id=clinic_id)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode != 0 and out == ""
        assert len(err.strip().splitlines()) == 1 and words in err, err
    db = open_database(db_path)
    assert db["sessions"].count == 0
    db.close()
