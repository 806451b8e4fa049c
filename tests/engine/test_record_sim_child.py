"""``record --device sim://``: the simulator it starts never outlives it, and Ctrl-C is record's alone.

Real processes throughout: ``main.py record`` as a child of the test, the
simulator as its child on a real pty. The simulator's pid is found in /proc
(psutil is not a dependency), so these tests run where there is a /proc.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from db.database import open_database

from .clinic_setup import ROOT, clinic, login_for, session_line

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists() or sys.platform == "win32",
                       reason="finds processes through /proc"),
]


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of ``pid`` from /proc, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the command name may hold spaces and brackets
    return fields[0], int(fields[1]), int(fields[2])


def _alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's zombie waits for whatever reaps orphans here)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def simulator_of(parent: int, timeout: float = 30.0) -> int:
    """The pid of the ``devices.sim`` process whose parent is ``parent``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            stat = _stat(int(entry.name))
            if stat is None or stat[1] != parent:
                continue
            with contextlib.suppress(OSError):
                if b"devices.sim" in (entry / "cmdline").read_bytes():
                    return int(entry.name)
        time.sleep(0.05)
    raise AssertionError(f"no simulator child of {parent} found")


def record_in_own_group(db_path: Path, url: str) -> subprocess.Popen:
    """``main.py record`` leading its own process group, as a shell starts a foreground job, so a
    signal to the group (a terminal's Ctrl-C) reaches it and its children, and not this test."""
    user, env = login_for(db_path)
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "record", "--device", url, "--patient", "P-1",
         "--db", str(db_path), *user],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env, process_group=0,
    )


def wait_for_pulses(db_path: Path, session_id: int, n: int, timeout: float = 60.0) -> None:
    db = open_database(db_path)
    try:
        deadline = time.monotonic() + timeout
        while db.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [session_id]).fetchone()[0] < n:
            assert time.monotonic() < deadline, f"fewer than {n} pulses recorded in {timeout:g} s"
            time.sleep(0.05)
    finally:
        db.close()


def test_the_simulator_dies_with_a_killed_record(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "10hz")
    proc = record_in_own_group(db_path, "sim://10hz?speed=1&commands=0")
    sim = None
    link_dir = None
    try:
        session_line(proc)
        sim = simulator_of(proc.pid)
        args = Path(f"/proc/{sim}/cmdline").read_bytes().decode().split("\0")
        link_dir = Path(args[args.index("--link") + 1]).parent  # the adapter's, left by the kill
        assert _alive(sim)
        proc.kill()  # kill -9: record runs no clean-up at all
        proc.communicate(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(sim) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(sim), "the simulator outlived the record command that started it"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
        if sim is not None and _alive(sim):
            with contextlib.suppress(OSError):
                os.kill(sim, signal.SIGKILL)
        if link_dir is not None:
            shutil.rmtree(link_dir, ignore_errors=True)


def test_ctrl_c_at_the_terminal_stops_the_session_not_the_simulator(tmp_path: Path) -> None:
    """Ctrl-C goes to the whole foreground group; the simulator, in a group of its own, keeps
    serving until record has sent STOP and read the device's end of the run."""
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "itbs")
    proc = record_in_own_group(db_path, "sim://itbs?speed=5")
    try:
        sid = session_line(proc)
        sim = simulator_of(proc.pid)
        sim_stat, record_stat = _stat(sim), _stat(proc.pid)
        assert sim_stat is not None and record_stat is not None
        assert sim_stat[2] != record_stat[2], "the simulator shares record's process group"
        wait_for_pulses(db_path, sid, 10)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "ENDED stopped" in out and "(operator)" in out
    db = open_database(db_path)
    s = db["sessions"].get(sid)
    assert (s["status"], s["end_reason"]) == ("stopped", "operator")
    outcomes = [json.loads(d).get("outcome") for (d,) in db.execute(
        "SELECT detail FROM session_events WHERE session_id = ? AND kind = 'command' AND code = 'STOP'",
        [sid])]
    lost = db.execute("SELECT count(*) FROM session_events WHERE session_id = ? AND kind = 'device_lost'",
                      [sid]).fetchone()[0]
    db.close()
    assert "acknowledged" in outcomes, outcomes  # the device was still there to answer STOP
    assert lost == 0
