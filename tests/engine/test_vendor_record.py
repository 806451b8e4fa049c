"""Issue 16, done when: a whole 10 Hz and an iTBS session recorded from a vendor's simulator
through a real pty into the database, every pulse stored once with its intensity (and di/dt on a
MagVenture), the device's identity and coil in the session's record.

Through ``main.py record`` as a clinic runs it: the adapter found by its address, the real runner,
writer and SQLite file. A MagPro never says its run ended; the session completes when the
protocol's last train has ended with every planned pulse, not when someone stops it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from db.database import open_database
from devices.magventure.sim.process import MagProProcess
from devices.sim.plan import load_presets

from .clinic_setup import ROOT, clinic, login_for

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("preset, speed", [("10hz", 500.0), ("itbs", 100.0)])
def test_a_magventure_session_is_stored_pulse_by_pulse_with_identity_and_coil(
    preset: str, speed: float, tmp_path,
) -> None:
    db_path = tmp_path / "clinic.db"
    clinic(db_path, preset)  # MT 52 % MSO at 120 %: 62 % MSO prescribed
    spec = load_presets()[preset]
    user, env = login_for(db_path)
    with MagProProcess("--protocol", preset, "--speed", str(speed), "--autostart", "--mso", "62") as sim:
        done = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "record", "--device", sim.url, "--patient", "P-1",
             "--db", str(db_path), *user],
            capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
        )
    assert done.returncode == 0, done.stderr
    assert f"ENDED completed pulses {spec.planned_pulses}/{spec.planned_pulses}" in done.stdout
    db = open_database(db_path)
    try:
        s = db.execute(
            "SELECT id, status, device_vendor, device_model, device_serial, coil_type, pulses_observed, "
            "pulses_recorded, frames_rejected, frames_missing FROM sessions").fetchone()
        session_id = s[0]
        assert s[1:] == ("completed", "MagVenture", "MagPro X100 + MagOption", "51234", "C-B60 (type 72)", 1,
                         spec.planned_pulses, 0, 0)
        rows = db.execute("SELECT count, mso, didt FROM pulses WHERE session_id = ? ORDER BY count",
                          [session_id]).fetchall()
        assert [r[0] for r in rows] == list(range(1, spec.planned_pulses + 1))  # each pulse once
        assert {r[1] for r in rows} == {62}
        assert all(r[2] is not None and r[2] > 0 for r in rows)  # di/dt kept
    finally:
        db.close()
