"""The simulator as a program: its first line is the address to type into the console, unusable
options are one clear line and exit status 2, and the same seed gives the same answers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from devices.localite.sim.process import NavigatorProcess
from devices.sim.process import ROOT


@pytest.mark.parametrize("args, message", [
    (["--speed", "0.5"], "--speed must be between 1 and 1000"),
    (["--amplitude", "101"], "--amplitude must be 0..100"),
    (["--pulse-hz", "-1"], "--pulse-hz must be 0..100"),
])
def test_unusable_options_are_one_clear_line_and_status_2(args: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "devices.localite.sim", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip() == f"simulate: error: {message}, got {args[1]}"
    assert done.stdout == ""


def answers(port: int, requests: list[dict[str, object]]) -> bytes:
    """Everything a persistent client gets for ``requests`` (sent at once), up to the last answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"".join(json.dumps(r).encode() for r in requests))
        data = b""
        while data.count(b'"coil_0_position"') < len(requests):
            chunk = sock.recv(4096)
            assert chunk, "the simulator closed the connection"
            data += chunk
    return b"".join(part for part in data.split(b"}}") if b"position" in part)


def test_the_port_line_is_a_console_address_and_a_seed_repeats_its_answers() -> None:
    runs = []
    for _ in range(2):
        with NavigatorProcess("--seed", "7", "--pulse-hz", "0") as sim:
            assert sim.url.startswith("localite+tcp://127.0.0.1:")
            runs.append(answers(sim.port, [{"get": "coil_0_position"}] * 5))
    assert runs[0] == runs[1] and runs[0].count(b"position") == 5
