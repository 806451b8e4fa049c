"""``record --device replay://FILE``: a replay ends when its capture does, whatever the capture holds.

Real processes and files: ``main.py record`` reads a capture written here
through the replay adapter into a real SQLite file. A capture taken without
the device's end of session (a real stimulator never sends one), cut short,
or holding only a few frames ends the session with a clear reason; one with no
device events at all is refused in one line, before any session exists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.record import CAPTURE_ENDED
from db.database import open_database
from devices.tscp import encode_frame
from tests.devices.test_adapter_replay import write_capture

from .capture import write_run
from .clinic_setup import clinic, record_process

HELLO = encode_frame(0, "HELLO", ["TSCP/1", "Acme Neuro", "SIM-1", "SN0001", "1.0.0"])


def record(db_path: Path, capture: Path) -> tuple[int, str, str]:
    """Run ``record`` on ``capture`` to its end (a hang fails the test, not the run)."""
    proc = record_process(db_path, f"replay://{capture}")
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert "Traceback" not in err, err
    return proc.returncode, out, err


def session_row(db_path: Path) -> dict:
    db = open_database(db_path)
    try:
        rows = list(db["sessions"].rows)
        assert len(rows) == 1, rows
        row = dict(rows[0])
        row["pulse_rows"] = db.execute("SELECT count(*) FROM pulses WHERE session_id = ?",
                                       [row["id"]]).fetchone()[0]
        return row
    finally:
        db.close()


def test_a_capture_without_an_end_of_session_ends_when_the_capture_does(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "itbs")
    status, out, err = record(db_path, write_run(tmp_path / "run.tscp", end=None))
    assert status == 0, err
    assert out.splitlines()[1] == f"ENDED stopped pulses 600/600 ({CAPTURE_ENDED})"
    s = session_row(db_path)
    assert (s["status"], s["end_reason"], s["pulses_recorded"], s["pulse_rows"]) == (
        "stopped", CAPTURE_ENDED, 600, 600)


def test_a_capture_cut_short_mid_frame_keeps_what_it_holds(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "itbs")
    whole = write_run(tmp_path / "whole.tscp").read_bytes()
    cut = tmp_path / "cut.tscp"
    cut.write_bytes(whole[: len(whole) // 3 + 7])  # a third of the run, ending inside a frame
    status, out, err = record(db_path, cut)
    assert status == 0, err
    s = session_row(db_path)
    assert (s["status"], s["end_reason"]) == ("stopped", CAPTURE_ENDED)
    assert 0 < s["pulses_recorded"] == s["pulse_rows"] < 600
    assert out.splitlines()[1].startswith(f"ENDED stopped pulses {s['pulses_recorded']}/")


@pytest.mark.parametrize("kind", ["a few frames and the end", "only the device's hello"])
def test_a_short_capture_ends_cleanly(tmp_path: Path, kind: str) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "itbs")
    if kind == "a few frames and the end":  # the whole run ends before record has started it
        capture = write_capture(tmp_path / "short.tscp")
        expected = ("completed", None, 2, "ENDED completed pulses 2/2")
    else:
        capture = tmp_path / "hello.tscp"
        capture.write_bytes(HELLO)
        expected = ("stopped", CAPTURE_ENDED, 0, f"ENDED stopped pulses 0/0 ({CAPTURE_ENDED})")
    status, out, err = record(db_path, capture)
    assert status == 0, err
    s = session_row(db_path)
    assert (s["status"], s["end_reason"], s["pulses_recorded"], out.splitlines()[1]) == expected


@pytest.mark.parametrize(("content", "words"), [
    (b"", "holds no device events (it is empty)"),
    (b"garbage\r\nmore garbage\r\n", "holds no device events"),
    (encode_frame(0, "PONG", [900]), "holds no device events"),  # link-level only: no events
], ids=["empty", "garbage", "link-level only"])
def test_a_capture_with_no_device_events_is_one_clear_line(tmp_path: Path, content: bytes,
                                                           words: str) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "itbs")
    capture = tmp_path / "nothing.tscp"
    capture.write_bytes(content)
    status, out, err = record(db_path, capture)
    assert status != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err and "nothing.tscp" in err, err
    db = open_database(db_path)
    assert db["sessions"].count == 0
    db.close()
