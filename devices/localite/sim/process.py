"""Start and stop the simulated TMS Navigator as a child process (tests, the benchmark, demos).

As :mod:`devices.magventure.sim.process`: the child runs as a technician would start it
(``python -m devices.localite.sim``) and is read over real TCP; ``start()`` returns once it printed
its ``PORT`` line, and it never outlives this process (``--exit-with-stdin``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from devices.sim.process import ROOT, SimulatorError


class NavigatorProcess:
    """A running ``python -m devices.localite.sim ARGS``; ``address`` (host:port) and ``url`` once started."""

    def __init__(self, *args: str | os.PathLike[str]) -> None:
        self.args = [str(a) for a in args]
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._first_line = threading.Event()
        self._line = ""
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise SimulatorError("the Navigator simulator has not been started")
        return self._proc.pid

    @property
    def address(self) -> str:
        return self.url.split("://", 1)[1] if self.url else ""

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    def start(self, timeout: float = 10.0) -> NavigatorProcess:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        self._stderr = tempfile.NamedTemporaryFile(prefix="localite-sim-", suffix=".log")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "devices.localite.sim", *self.args, "--exit-with-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
            process_group=0,
        )
        self._reader = threading.Thread(target=self._read_lines, name="localite-sim-stdout", daemon=True)
        self._reader.start()
        if not self._first_line.wait(timeout) or not self._line.startswith("PORT "):
            message = self.log_text().strip()
            self.stop()
            raise SimulatorError(f"the Navigator simulator printed no PORT line within {timeout:g} s "
                                 f"{message}")
        self.url = self._line[5:].strip()
        return self

    def _read_lines(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for raw in self._proc.stdout:
            if not self._first_line.is_set():
                self._line = raw.decode("utf-8", "replace").strip()
                self._first_line.set()
        self._first_line.set()

    def log_text(self) -> str:
        if self._stderr is None:
            return ""
        try:
            return Path(self._stderr.name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 5.0) -> None:
        proc = self._proc
        if proc is not None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if self._reader is not None:
                self._reader.join(timeout)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> NavigatorProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


__all__ = ["NavigatorProcess", "SimulatorError"]
