"""Issue 17: a session from two devices at once, a stimulator and a separate coil tracker, each on
its own real pty, through ``main.py record --device STIM --tracker TRACKER``.

The pulses are the stimulator's, the pose of each pulse is the tracker's (the one nearest before it,
with its age), the record names both devices, and a drift seen by the tracker shows in the
on-target figure. Here both are TSCP simulators; the tracker's own pulses, intensity and run are
not the session's and are not counted.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from console.clinic.settings import set_setting
from console.people.user import get_user
from db.database import open_database
from devices.sim.process import SimulatorProcess

from .clinic_setup import ROOT, clinic, login_for

pytestmark = pytest.mark.slow


def _record(db_path, stimulator: str, tracker: str) -> subprocess.CompletedProcess:
    user, env = login_for(db_path)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "record", "--device", stimulator, "--tracker", tracker,
         "--patient", "P-1", "--db", str(db_path), *user],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )


@pytest.mark.parametrize("drift", [False, True])
def test_each_pulse_takes_the_trackers_pose_and_the_record_names_both(tmp_path, drift: bool) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, "itbs")
    # The simulators run 20 times faster than real devices: a host millisecond of scheduling is
    # 20 device milliseconds, so the pose's age limit is the clinic setting's allowed maximum
    # here (the limit itself is tested in test_pulse_pose_age.py).
    db = open_database(db_path)
    set_setting(db, "tracker_pose_max_age_ms", 2000, get_user(db, "setup-admin"))
    db.close()
    scenarios = ("drift",) if drift else ()
    with SimulatorProcess("itbs", speed=20, seed=4, pose_hz=10) as stimulator, \
            SimulatorProcess("itbs", speed=20, seed=5, pose_hz=60, autostart=True,
                             scenarios=scenarios) as tracker:
        done = _record(db_path, stimulator.url, tracker.url)
    assert done.returncode == 0, done.stderr
    assert "ENDED completed pulses 600/600" in done.stdout
    db = open_database(db_path)
    try:
        s = db.execute("SELECT id, tracker_url, tracker_vendor, pulses_recorded, pulses_on_target "
                       "FROM sessions").fetchone()
        assert s[1] == tracker.url and s[2] and s[3] == 600
        with_pose, oldest = db.execute(
            "SELECT count(x), max(pose_age_ms) FROM pulses WHERE session_id = ?", [s[0]]).fetchone()
        assert with_pose == 600  # the tracker answers before the stimulator is started
        assert oldest is not None and oldest <= 2000
        off = db.execute("SELECT count(*) FROM pulses WHERE session_id = ? AND on_target = 0",
                         [s[0]]).fetchone()[0]
        if drift:
            assert 0 < off < 600 and s[4] == 600 - off  # the tracker's drift, in the figure
        else:
            assert off == 0 and s[4] == with_pose
    finally:
        db.close()
