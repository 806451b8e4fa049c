"""The simulator as a program: seeded (same seed and options, same bytes), streaming on its own
without being asked (the technician's front panel), and refusing unusable options clearly."""

from __future__ import annotations

import subprocess
import sys
import time

import serial

from devices.magventure.codec import Receiver
from devices.magventure.sim.process import MagProProcess
from devices.sim.process import ROOT


def listen(*args: str, seconds: float = 2.0) -> bytes:
    """What a host that only listens (never writes) reads from a fresh simulator."""
    with MagProProcess(*args) as sim:
        port = serial.Serial(sim.port, 38400, timeout=0.05)
        data = bytearray()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            data += port.read(4096)
        port.close()
        return bytes(data)


def test_same_seed_same_bytes_and_the_unit_streams_unasked() -> None:
    args = ("--protocol", "itbs", "--speed", "100", "--autostart", "--scenario", "garbage")
    first = listen(*args, "--seed", "7")
    second = listen(*args, "--seed", "7")
    other = listen(*args, "--seed", "8")
    common = min(len(first), len(second))
    assert common > 2000  # pulses flowed without the host sending anything
    assert first[:common] == second[:common]
    assert first[:common] != other[:common]
    receiver = Receiver()
    events = receiver.feed(first, 1.0)
    assert receiver.rejected > 0 and any(type(e).__name__ == "Pulse" for e in events)


def test_unusable_options_are_one_line_errors() -> None:
    for bad, words in ((["--speed", "0"], "--speed must be"), (["--protocol", "nope"], "unknown protocol"),
                       (["--serial", "99999999"], "--serial must be")):
        run = subprocess.run([sys.executable, "-m", "devices.magventure.sim", *bad], cwd=ROOT,
                             capture_output=True, text=True, timeout=30)
        assert run.returncode == 2
        assert run.stderr.startswith("simulate: error: ") and words in run.stderr
        assert run.stderr.count("\n") == 1
