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


MAGSTIM_CODE = "1234-56789012-34"


def _clinic_with_magstim_code(db_path, preset: str, mt: float) -> None:
    """A patient ready for ``preset``, and the Rapid's unlock code as the clinic's secret setting."""
    from console.clinic.records import find_patient, record_motor_threshold
    from console.clinic.settings import set_setting
    from console.people.user import get_user

    clinic(db_path, preset)
    db = open_database(db_path)
    try:
        record_motor_threshold(db, find_patient(db, "P-1").id, mt, "EMG")
        set_setting(db, "magstim_unlock_code", MAGSTIM_CODE, get_user(db, "setup-admin"))
    finally:
        db.close()


def _magstim(tmp_path, *args: str):
    from tests.devices.magstim.support import MagstimSim

    return MagstimSim(tmp_path, "--unlock", MAGSTIM_CODE, *args)


def test_a_magstim_10hz_session_fired_by_the_console_is_stored_pulse_by_pulse(tmp_path) -> None:
    """The console fires each train (control=1), so each pulse is known and stored once with its
    power; the unlock code comes from the clinic's setting and is nowhere in the record."""
    db_path = tmp_path / "clinic.db"
    _clinic_with_magstim_code(db_path, "10hz", 25.0)  # 120 % of 25: 30 % MSO
    spec = load_presets()["10hz"]
    user, env = login_for(db_path)
    with _magstim(tmp_path, "--speed", "100", "--mso", "20") as sim:
        done = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "record", "--device",
             f"magstim+serial://{sim.port}?model=rapid&control=1&speed=100", "--patient", "P-1",
             "--db", str(db_path), *user],
            capture_output=True, text=True, timeout=600, cwd=ROOT, env=env,
        )
    assert done.returncode == 0, done.stderr
    assert MAGSTIM_CODE not in done.stdout + done.stderr
    assert f"ENDED completed pulses {spec.planned_pulses}/{spec.planned_pulses}" in done.stdout
    db = open_database(db_path)
    try:
        s = db.execute("SELECT id, device_url, device_vendor, device_model, pulses_observed, pulses_recorded "
                       "FROM sessions").fetchone()
        assert MAGSTIM_CODE not in s[1] and s[2] == "Magstim" and s[4] == 1
        assert s[5] == spec.planned_pulses
        rows = db.execute("SELECT count, mso FROM pulses WHERE session_id = ? ORDER BY count",
                          [s[0]]).fetchall()
        assert [r[0] for r in rows] == list(range(1, spec.planned_pulses + 1))
        assert {r[1] for r in rows} == {30}
        dump = "\n".join(str(r) for r in db.execute("SELECT * FROM audit_log").fetchall())
        assert MAGSTIM_CODE not in dump  # the setting's change is audited, its value is not
    finally:
        db.close()


def test_a_magstim_itbs_from_its_trigger_input_is_pulses_not_observed_never_zero(tmp_path) -> None:
    """iTBS cannot be fired over the serial line (Magstim has no theta-burst command): the unit
    runs it from its trigger input, and the record says the pulses were not observed."""
    import signal
    import time

    db_path = tmp_path / "clinic.db"
    _clinic_with_magstim_code(db_path, "itbs", 25.0)
    user, env = login_for(db_path)
    with _magstim(tmp_path, "--speed", "20", "--mso", "30", "--protocol", "itbs",
                  "--panel-start", "1") as sim:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "record", "--device",
             f"magstim+serial://{sim.port}?model=rapid&speed=20", "--patient", "P-1", "--db", str(db_path),
             *user], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        try:
            time.sleep(3)  # the unit runs from its own trigger; the console can only watch
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    db = open_database(db_path)
    try:
        s = db.execute("SELECT id, pulses_observed, pulses_recorded, coil_type FROM sessions").fetchone()
        assert s[1] == 0 and s[2] == 0
        from console.review.flags import flag_config, flag_reasons

        reasons = {f.code: f.reason for f in flag_reasons(db, s[0], flag_config(db))}
        assert "not_observed" in reasons and "short" not in reasons
        from console.note.words import pulses_words

        row = next(db.query("SELECT * FROM sessions"))
        assert "not observed" in pulses_words(row) and "0 of" not in pulses_words(row)
    finally:
        db.close()
