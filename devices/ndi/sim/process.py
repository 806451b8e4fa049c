"""Start and stop the simulated NDI tracker as a child process (tests, the benchmark, demos).

As :mod:`devices.sim.process` does for the TSCP simulator: the child runs as a technician would
start it (``python -m devices.ndi.sim``), so the console reads it through a real pty and
pyserial; ``start()`` returns once it printed its ``PORT`` line, and it never outlives this process
(``--exit-with-stdin``: this process holds the only write end of its stdin).
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


class NdiProcess:
    """A running ``python -m devices.ndi.sim ARGS``; ``port`` and ``url`` once started."""

    def __init__(self, *args: str | os.PathLike[str]) -> None:
        self.args = [str(a) for a in args]
        self.port = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._lines: list[str] = []
        self._line_added = threading.Condition()
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise SimulatorError("the NDI simulator has not been started")
        return self._proc.pid

    def url(self, query: str = "") -> str:
        """The console address of the simulated tracker, with ``query`` (e.g. ``coil=A&reference=B``)."""
        return f"ndi+serial://{self.port}" + (f"?{query}" if query else "")

    def start(self, timeout: float = 10.0) -> NdiProcess:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        self._stderr = tempfile.NamedTemporaryFile(prefix="ndi-sim-", suffix=".log")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "devices.ndi.sim", *self.args, "--exit-with-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
            process_group=0,
        )
        self._reader = threading.Thread(target=self._read_lines, name="ndi-sim-stdout", daemon=True)
        self._reader.start()
        self.port = self.next_port(timeout, first=True)
        return self

    def _read_lines(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for raw in self._proc.stdout:
            with self._line_added:
                self._lines.append(raw.decode("utf-8", "replace").strip())
                self._line_added.notify_all()

    def next_port(self, timeout: float = 10.0, *, first: bool = False) -> str:
        """Wait for the next ``PORT`` line (the first one, or the one after a cable pull)."""
        want = 1 if first else len([x for x in self._lines if x.startswith("PORT ")]) + 1
        with self._line_added:
            ok = self._line_added.wait_for(
                lambda: len([x for x in self._lines if x.startswith("PORT ")]) >= want, timeout)
        if not ok:
            message = self.log_text().strip()
            self.stop()
            raise SimulatorError(f"the NDI simulator printed no PORT line within {timeout:g} s {message}")
        return [x for x in self._lines if x.startswith("PORT ")][want - 1][5:].strip()

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

    def __enter__(self) -> NdiProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


__all__ = ["NdiProcess", "SimulatorError"]
