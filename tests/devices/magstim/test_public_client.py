"""magpy (PyPI MagPy_TMS), an independent Magstim client, against the simulated unit over a pty.

magpy runs its serial port in a child process and blocks for ever when the unit
is silent, so it runs here in a subprocess with a timeout. A pty has no modem
lines, so pyserial's RTS call (magpy holds RTS low at start) fails there with
ENOTTY; the script tolerates exactly that error and nothing else. The bytes
magpy sent and received are read back from the simulator's wire log and
checked against the framing: every command's checksum, every reply parsed.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices.magstim.codec import checksum, parse_reply
from devices.magstim.rules import Unit

from .support import ROOT, UNLOCK, MagstimSim

pytest.importorskip("magpy.magstim")  # MagPy_TMS (needs pyyaml); in the test extra

SHIM = """
import errno, sys
import serial.serialposix as sp
_rts = sp.Serial._update_rts_state
def _rts_on_a_pty(self):
    try:
        _rts(self)
    except OSError as e:
        if e.errno != errno.ENOTTY:
            raise
sp.Serial._update_rts_state = _rts_on_a_pty
from magpy.magstim import Magstim, BiStim, Rapid
port = sys.argv[1]
"""

SCRIPT_200 = SHIM + """
m = Magstim(port)
m.connect()
out = [m.getParameters(), m.setPower(45, receipt=True), m.getParameters(), m.arm(receipt=True, delay=True),
       m.fire(receipt=True), m.getTemperature()]
m.disconnect()
print(repr(out))
"""

SCRIPT_RAPID = SHIM + """
m = Rapid(port, unlockCode=sys.argv[2])
m.connect()
out = [m._version, m.getParameters(), m.setPower(55, receipt=True, delay=True), m.getParameters(),
       m.arm(receipt=True, delay=True), m.isReadyToFire(), m.fire(receipt=True), m.getTemperature(),
       m.getSystemStatus()]
m.disconnect()
print(repr(out))
"""


def run_magpy(script: str, *args: str) -> list:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60,
                          env=env)
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def check_wire(sim: MagstimSim, unit: Unit) -> list[str]:
    """Every command well framed, every reply parsed; the letters magpy sent."""
    letters = []
    for record in sim.records("wire"):
        data = bytes.fromhex(record["hex"])
        if record["dir"] == ">":
            assert data[-1] == checksum(data[:-1]), data
            letters.append(chr(data[0]))
        else:
            assert parse_reply(unit, data) is not None, data
            assert data != b"?"  # magpy never sent a command the unit did not know
    return letters


def test_magpy_drives_a_200(tmp_path: Path) -> None:
    with MagstimSim(tmp_path, "--model", "200", "--mso", "20") as sim:
        params, set_power, params_after, arm, fire, temp = run_magpy(SCRIPT_200, sim.port)
        pulses = [r for r in sim.records("pulse") if r["kind"] == "pulse"]
    assert params[0] == 0 and params[1]["magstimParam"]["power"] == 20
    assert set_power[0] == 0 and params_after[1]["magstimParam"]["power"] == 45
    assert arm[0] == 0 and fire[0] == 0
    assert fire[1]["instr"]["ready"] == 1  # the status before the fire: armed and ready
    assert temp[0] == 0 and 20 < temp[1]["magstimTemp"]["coil1Temp"] < 40
    assert [(p["power"], p["source"]) for p in pulses] == [(45, "serial")]
    letters = check_wire(sim, Unit("200"))
    assert letters[0] == "Q" and {"J", "@", "E", "F", "R"} <= set(letters)


def test_magpy_drives_a_rapid_with_its_unlock_code(tmp_path: Path) -> None:
    with MagstimSim(tmp_path, "--model", "rapid", "--version", "9.4.0", "--unlock", UNLOCK,
                    "--mso", "30") as sim:
        out = run_magpy(SCRIPT_RAPID, sim.port, UNLOCK)
        pulses = [r for r in sim.records("pulse") if r["kind"] == "pulse"]
    version, params, set_power, params_after, arm, ready, fire, temp, system = out
    assert version == (9, 4, 0)
    assert params[0] == 0 and params[1]["rapidParam"]["power"] == 30
    assert params[1]["rapid"]["singlePulseMode"] == 1
    assert set_power[0] == 0 and params_after[1]["rapidParam"]["power"] == 55
    assert arm[0] == 0 and ready is True and fire[0] == 0
    assert temp[0] == 0 and system[0] == 0
    assert [(p["power"], p["source"]) for p in pulses] == [(55, "serial")]
    letters = check_wire(sim, Unit("rapid", (9, 4, 0)))
    assert letters[:2] == ["Q", "N"] and "x" in letters and "\\" in letters
