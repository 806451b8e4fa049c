"""A vendor's simulator as a child process (tests, benchmarks, demos): one way for all of them.

As :mod:`devices.sim.process` does for the TSCP simulator: the child runs as a technician would
start it (``python -m devices.<vendor>.sim``), so the console reads it through a real pty (or
real TCP) and pyserial; ``start()`` returns once it printed its ``PORT`` line, and it never
outlives this process (``--exit-with-stdin``: this process holds the only write end of its stdin).
A subclass names its module and says how its address becomes a console address (``url``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from devices.sim.process import ROOT, SimulatorError, end_child


class SimulatorChild:
    """A running ``python -m MODULE ARGS``; ``printed`` (what it printed after ``PORT``, also
    ``port`` unless the subclass reads it otherwise) once started."""

    MODULE = ""
    """The simulator's package, e.g. ``devices.magventure.sim``."""
    NAME = "simulator"
    """How messages name it, e.g. "MagPro simulator"."""

    def __init__(self, *args: str | os.PathLike[str]) -> None:
        self.args = [str(a) for a in args]
        self.printed = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._lines: list[str] = []
        self._line_added = threading.Condition()
        self._reader: threading.Thread | None = None

    @property
    def port(self) -> str:
        """Where it serves: a pty's path, or ``socket://127.0.0.1:N``."""
        return self.printed

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise SimulatorError(f"the {self.NAME} has not been started")
        return self._proc.pid

    def start(self, timeout: float = 10.0) -> Self:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        tag = self.MODULE.split(".")[1] if "." in self.MODULE else "sim"
        self._stderr = tempfile.NamedTemporaryFile(prefix=f"{tag}-sim-", suffix=".log")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [sys.executable, "-m", self.MODULE, *self.args, "--exit-with-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
            process_group=0,
        )
        self._reader = threading.Thread(target=self._read_lines, name=f"{tag}-sim-stdout", daemon=True)
        self._reader.start()
        self.printed = self.next_port(timeout, first=True)
        return self

    def _read_lines(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for raw in self._proc.stdout:
            with self._line_added:
                self._lines.append(raw.decode("utf-8", "replace").strip())
                self._line_added.notify_all()

    def _ports(self) -> list[str]:
        return [x[5:].strip() for x in self._lines if x.startswith("PORT ")]

    def next_port(self, timeout: float = 10.0, *, first: bool = False) -> str:
        """Wait for the next ``PORT`` line (the first one, or the one after a cable pull)."""
        want = 1 if first else len(self._ports()) + 1
        with self._line_added:
            ok = self._line_added.wait_for(lambda: len(self._ports()) >= want, timeout)
        if not ok:
            message = self.log_text().strip()
            self.stop()
            raise SimulatorError(f"the {self.NAME} printed no PORT line within {timeout:g} s {message}")
        return self._ports()[want - 1]

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
            end_child(proc, timeout)
            if self._reader is not None:
                self._reader.join(timeout)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


__all__ = ["SimulatorChild", "SimulatorError"]
