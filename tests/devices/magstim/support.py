"""Starting the simulated Magstim as a child process, as a technician would, for the tests."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
UNLOCK = "1234-12345678-ab"


class MagstimSim:
    """``python -m devices.magstim.sim ARGS`` with its PORT line read; logs under ``tmp``."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.pulse_log = tmp / "pulses.jsonl"
        self.fault_log = tmp / "faults.jsonl"
        self.wire_log = tmp / "wire.jsonl"
        self.args = [*args, "--pulse-log", str(self.pulse_log), "--fault-log", str(self.fault_log),
                     "--wire-log", str(self.wire_log), "--exit-with-stdin"]
        self.port = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> MagstimSim:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-m", "devices.magstim.sim", *self.args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert self.proc.stdout is not None
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append(self.proc.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(15)
        line = got[0].decode() if got else ""
        assert line.startswith("PORT "), f"the simulator did not start: {line!r}"
        self.port = line.split(" ", 1)[1].strip()
        return self

    def next_port(self, timeout: float = 15.0) -> str:
        """The address printed after a pulled cable came back."""
        assert self.proc is not None and self.proc.stdout is not None
        got: list[bytes] = []
        stdout = self.proc.stdout
        reader = threading.Thread(target=lambda: got.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        assert got and got[0].startswith(b"PORT "), "no new PORT line"
        return got[0].decode().split(" ", 1)[1].strip()

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> MagstimSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def records(self, which: str = "pulse") -> list[dict[str, Any]]:
        path = {"pulse": self.pulse_log, "fault": self.fault_log, "wire": self.wire_log}[which]
        if not path.exists():
            return []
        return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
