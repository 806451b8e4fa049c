"""What a device sends that the record must survive, through the real replay adapter, runner and SQLite.

Issue 13: a valid frame carrying a number out of range (finding 3) and a
device that restarts mid-run (finding 6).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.clinic.protocols import ProtocolSpec
from db.database import open_database
from devices.tscp import encode_frame

from .capture import write_run
from .test_runner import new_patient, record

HUGE = str(2**63)
TEN_HZ = ProtocolSpec("10 Hz left DLPFC", 10.0, 10, 5, 20.0, 1)
"""50 pulses over 85 s: long enough that the replay is still running when the console starts."""


@pytest.fixture
def clinic_db(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    open_database(path).close()
    return path


def _replace_frames(data: bytes, at: dict[int, tuple[str, list[str]]]) -> bytes:
    """The capture with its frame number i replaced by another frame with the same seq."""
    lines = data.split(b"\r\n")
    for i, (type_, fields) in at.items():
        seq = int(lines[i][1:].split(b",", 1)[0])
        lines[i] = encode_frame(seq, type_, fields).rstrip(b"\r\n")
    return b"\r\n".join(lines)


def _session(db_path: Path, session_id: int) -> tuple[dict, list[int], list[tuple[str, dict]]]:
    db = open_database(db_path)
    try:
        s = dict(db["sessions"].get(session_id))
        counts = [r[0] for r in db.execute(
            "SELECT count FROM pulses WHERE session_id = ? ORDER BY count", [session_id])]
        events = [(r[0], json.loads(r[1]) if r[1] else {}) for r in db.execute(
            "SELECT kind, detail FROM session_events WHERE session_id = ? ORDER BY id", [session_id])]
    finally:
        db.close()
    return s, counts, events


def test_a_frame_with_a_huge_number_is_rejected_and_the_session_ends_with_every_pulse(
    clinic_db: Path, tmp_path: Path,
) -> None:
    _, plan = new_patient(clinic_db)
    capture = tmp_path / "huge.tscp"
    data = write_run(capture).read_bytes()
    # two pose frames in the first train become a PULSE and a TRAIN with numbers >= 2^63
    capture.write_bytes(_replace_frames(data, {
        20: ("PULSE", ["5600", HUGE, "62", "142.6"]),
        40: ("TRAIN", ["6200", HUGE, "START", "30"]),
    }))
    runner, snap = record(clinic_db, capture, plan)
    assert snap.end_status == "completed"
    s, counts, _ = _session(clinic_db, runner.session_id)
    assert s["status"] == "completed" and s["ended_at"] is not None
    assert counts == list(range(1, 601))
    assert (s["pulses_delivered"], s["pulses_recorded"], s["trains_delivered"]) == (600, 600, 20)
    assert (s["frames_rejected"], s["frames_missing"]) == (2, 2)


def test_a_device_restart_mid_run_keeps_all_100_pulses_and_is_recorded(
    clinic_db: Path, tmp_path: Path,
) -> None:
    _, plan = new_patient(clinic_db)
    first = write_run(tmp_path / "a.tscp", TEN_HZ, t0=90_000, end=None).read_bytes()
    # the device restarts: HELLO again, its clock and its pulse count begin again
    second = write_run(tmp_path / "b.tscp", TEN_HZ, t0=300).read_bytes()
    capture = tmp_path / "restart.tscp"
    capture.write_bytes(first + second)
    runner, snap = record(clinic_db, capture, plan)
    assert snap.end_status == "completed"
    s, counts, events = _session(clinic_db, runner.session_id)
    assert counts == list(range(1, 101))
    assert (s["status"], s["pulses_delivered"], s["pulses_recorded"]) == ("completed", 100, 100)
    kinds = [k for k, _ in events]
    assert "pulse_repeated" not in kinds and "pulses_missing" not in kinds
    assert [d for k, d in events if k == "device_restarted"] == [
        {"segment": 1, "count_offset": 50, "previous_run_pulses": 50}]
    assert s["duration_s"] == pytest.approx(170.0, abs=1.0)  # device time runs on across the restart
