"""A full disk while recording: loud at once, retried, and never reported as saved.

Real processes and files: ``main.py record`` records the simulator (a real pty)
into a real SQLite file whose size the operating system limits (RLIMIT_FSIZE:
writes past it fail with EFBIG, as on a full disk; Python ignores SIGXFSZ).
In-process, the runner writes through the real writer into a file SQLite may
not grow (``PRAGMA max_page_count``: SQLITE_FULL); deleting other data frees
pages, which is space returning.
"""

from __future__ import annotations

import re
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.session.runner import SessionRunner
from db.database import open_database
from devices.adapter import DeviceAdapter, LinkCounters
from devices.events import DeviceEvent
from devices.registry import create_adapter
from tests.engine.capture import write_run
from tests.engine.clinic_setup import ROOT, clinic, login_for
from tests.engine.test_runner import new_patient

pytestmark = pytest.mark.slow
DEVICE = "sim://10hz?speed=200&seed=3"  # 3,000 pulses in about 11 s


def limited_record(db_path: Path, room: int, stderr: Path) -> subprocess.Popen:
    """``record`` whose files may not grow past the database's size plus ``room`` bytes."""
    db = open_database(db_path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    user, env = login_for(db_path)  # the account first: the limit is on what recording writes
    db = open_database(db_path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    limit = db_path.stat().st_size + room
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    with stderr.open("w") as err:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "record", "--device", DEVICE, "--patient", "P-1",
             "--db", str(db_path), *user],
            stdout=subprocess.PIPE, stderr=err, text=True, cwd=ROOT, env=env,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard)),
        )


def end(proc: subprocess.Popen) -> None:
    """However the test went: no process left running, no pipe left open."""
    if proc.poll() is None:
        proc.kill()
    if proc.stdout is not None and not proc.stdout.closed:
        proc.communicate(timeout=30)


def wait_for_text(path: Path, text: str, proc: subprocess.Popen, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while text not in (seen := path.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            end(proc)
            raise AssertionError(f"{text!r} never came on stderr: {seen[-2000:]}")
        time.sleep(0.05)
    return seen


def pulse_rows(db_path: Path) -> tuple[int, str | None]:
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute("SELECT count(*) FROM pulses").fetchone()[0]
        status = conn.execute("SELECT status FROM sessions").fetchone()
        return rows, status[0] if status else None
    finally:
        conn.close()


def ended_line(out: str) -> tuple[int, int]:
    match = re.search(r"^ENDED \w+ pulses (\d+)/(\d+)", out, re.M)
    assert match, out
    return int(match[1]), int(match[2])


def test_record_under_a_full_disk_is_loud_and_names_what_was_not_saved(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "10hz")
    err = tmp_path / "stderr.txt"
    proc = limited_record(db_path, 200_000, err)
    try:
        seen = wait_for_text(err, "record: WARNING: Saving to the database is failing", proc)
        # the session ends by itself (the device completes it); the rows still wait: record retries
        seen = wait_for_text(err, "rows are not saved yet; retrying", proc)
        assert proc.poll() is None  # it does not give up by itself (within minutes)
        proc.send_signal(signal.SIGTERM)  # the operator gives up on them
        out, _ = proc.communicate(timeout=60)
    finally:
        end(proc)
    seen = err.read_text()
    assert proc.returncode == 1, seen
    assert "Traceback" not in seen
    lost = re.search(r"^record: ([\d,]+) pulses, .* of session 1 were NOT saved to .*clinic\.db: "
                     r"the disk could not be written", seen, re.M)
    assert lost, seen
    saved, delivered = ended_line(out)
    rows, status = pulse_rows(db_path)
    assert delivered == 3000
    assert saved == rows < delivered  # the ENDED line claims only what is in the file
    assert rows + int(lost[1].replace(",", "")) == delivered  # nothing unaccounted for
    assert status == "recording"  # its end is not saved either: recovery will mark it interrupted


def test_record_saves_everything_once_space_returns(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "10hz")
    err = tmp_path / "stderr.txt"
    proc = limited_record(db_path, 200_000, err)
    try:
        wait_for_text(err, "record: WARNING: Saving to the database is failing", proc)
        time.sleep(0.5)  # a few more retries fail
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (hard, hard))  # space returns
        wait_for_text(err, "record: saving to the database works again", proc)
        out, _ = proc.communicate(timeout=90)
    finally:
        end(proc)
    seen = err.read_text()
    assert proc.returncode == 0, seen
    assert "NOT saved" not in seen
    assert ended_line(out) == (3000, 3000)
    assert pulse_rows(db_path) == (3000, "completed")


class GatedReplay(DeviceAdapter):
    """The real replay adapter, holding its events back until the test lets them through."""

    def __init__(self, capture: Path) -> None:
        self.inner = create_adapter(f"replay://{capture}")
        self.url = self.inner.url
        self.gate = threading.Event()

    @property
    def exhausted(self) -> bool:  # type: ignore[override]
        return self.inner.exhausted

    def open(self) -> None:
        self.inner.open()
        self.identity = self.inner.identity

    def close(self) -> None:
        self.inner.close()

    def counters(self) -> LinkCounters:
        return self.inner.counters()

    def events(self, idle_timeout: float | None = None) -> Iterator[DeviceEvent]:
        if not self.gate.wait(idle_timeout):
            return
        yield from self.inner.events(idle_timeout)


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never came"
        time.sleep(0.02)


def test_the_chair_hears_of_a_full_disk_and_of_space_returning(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    open_database(db_path).close()
    _, plan = new_patient(db_path)
    db = open_database(db_path)
    db.execute("CREATE TABLE ballast (b BLOB)")
    db.execute("INSERT INTO ballast VALUES (zeroblob(4000000))")  # room to free later
    db.close()
    adapter = GatedReplay(write_run(tmp_path / "itbs.tscp", end=None))
    runner = SessionRunner(db_path, adapter, plan)
    try:
        runner.open()
        writer = runner._writer
        assert writer is not None
        pages = writer.call(lambda d: d.execute("PRAGMA page_count").fetchone()[0]).result(10)
        writer.call(lambda d: d.execute(f"PRAGMA max_page_count = {pages}")).result(10)  # the disk is full
        adapter.gate.set()
        wait_until(lambda: runner.snapshot().storage_error is not None)
        snap = runner.snapshot()
        assert snap.storage_error.startswith("Saving to the database is failing (the disk is full)")
        assert "kept in memory" in snap.storage_error and "SQLITE" not in snap.storage_error
        wait_until(lambda: runner.saving_at_end)  # the capture ran out: it ends, and keeps retrying
        assert runner.waiting_rows()["pulses"] == 600
        free = sqlite3.connect(db_path)
        free.execute("DELETE FROM ballast")  # space returns
        free.commit()
        free.close()
        assert runner.wait_until_ended(30)
        assert runner.snapshot().storage_error is None
        assert runner.lost_rows == {}
    finally:
        runner.close()
    db = open_database(db_path)
    s = db["sessions"].get(runner.session_id)
    assert (s["status"], s["pulses_recorded"]) == ("stopped", 600)
    assert db.execute("SELECT count(*) FROM pulses").fetchone()[0] == 600
    db.close()
