"""Start and stop a simulated device as a child process (tests, the record command, the GUI demo).

The simulator runs as its own process (``python -m devices.sim``), exactly as a
technician would start it, so the console reads it through a real pty and
pyserial. ``start()`` returns once the child has printed its ``PORT`` line;
``stop()`` ends it with SIGTERM (SIGKILL if it does not go) and leaves no
process, thread or pipe behind.

The child never outlives this process, however it ends (kill -9 included):
it is started with ``--exit-with-stdin`` and this process holds the only write
end of its stdin, which the OS closes when this process dies, so the child
reads EOF and exits. That works on every platform and whatever thread started
the child (Linux's parent-death signal fires when the starting *thread* ends,
which would kill a simulator opened from a worker thread). The child also gets
a process group of its own, so a terminal's Ctrl-C reaches only this process:
it stops the session cleanly (STOP, the device's end of run) while the
simulator still answers, and then stops the simulator itself.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent


def _own_process_group() -> dict[str, Any]:
    """Popen arguments that give the child a process group of its own (see the module docstring)."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"process_group": 0}


class SimulatorError(RuntimeError):
    """The simulator did not start (its own message is included)."""


class SimulatorProcess:
    """A running ``python -m devices.sim``; use as a context manager or start()/stop()."""

    def __init__(
        self,
        protocol: str = "10hz",
        *,
        speed: float = 1.0,
        seed: int = 1,
        autostart: bool = False,
        scenarios: Sequence[str] = (),
        exit_after_eos: bool = False,
        link: str | os.PathLike[str] | None = None,
        fault_log: str | os.PathLike[str] | None = None,
        mso: int | None = None,
        pose_hz: int = 30,
        tcp_port: int | None = None,
        no_commands: bool = False,
        extra_args: Sequence[str] = (),
    ) -> None:
        args = ["--protocol", protocol, "--speed", repr(float(speed)), "--seed", str(seed),
                "--pose-hz", str(pose_hz)]
        if autostart:
            args.append("--autostart")
        for s in scenarios:
            args += ["--scenario", s]
        if exit_after_eos:
            args.append("--exit-after-eos")
        if link is not None:
            args += ["--link", str(Path(link).absolute())]
        if fault_log is not None:
            args += ["--fault-log", str(Path(fault_log).absolute())]
        if mso is not None:
            args += ["--mso", str(mso)]
        if tcp_port is not None:
            args += ["--tcp", str(tcp_port)]
        if no_commands:
            args.append("--no-commands")
        self.args: list[str] = [*args, *extra_args]
        self.port = ""
        """What pyserial opens: the pty path (or the link), or ``socket://127.0.0.1:N`` with TCP."""
        self.url = ""
        """The adapter URL: ``tscp+serial://<port>`` or ``tscp+socket://127.0.0.1:<port>``."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise SimulatorError("the simulator has not been started")
        return self._proc.pid

    def start(self, timeout: float = 10.0) -> SimulatorProcess:
        """Spawn the simulator and wait for its PORT line."""
        if self._proc is not None:
            return self
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        self._stderr = tempfile.NamedTemporaryFile(prefix="tscp-sim-", suffix=".log")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "devices.sim", *self.args, "--exit-with-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
            **_own_process_group(),
        )
        line = self._first_line(timeout)
        if not line.startswith("PORT "):
            self._proc.wait(timeout)
            message = self.log_text().strip() or repr(line)
            self.stop()
            raise SimulatorError(f"the simulator did not start: {message}")
        self.port = line[5:].strip()
        if self.port.startswith("socket://"):
            self.url = "tscp+" + self.port
        else:
            self.url = "tscp+serial://" + self.port
        return self

    def _first_line(self, timeout: float) -> str:
        """Read the first stdout line, giving up after ``timeout`` (portable: a joined thread)."""
        assert self._proc is not None and self._proc.stdout is not None
        result: list[bytes] = []
        stdout = self._proc.stdout
        reader = threading.Thread(target=lambda: result.append(stdout.readline()), name="sim-port-line")
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            self._proc.kill()  # closes the pipe's far end, so readline returns
            reader.join()
            message = self.log_text().strip()
            self.stop()
            raise SimulatorError(f"the simulator printed no PORT line within {timeout:g} s {message}")
        return result[0].decode("utf-8", "replace") if result else ""

    def log_text(self) -> str:
        """What the simulator wrote to stderr so far (its log and error messages)."""
        if self._stderr is None:
            return ""
        try:
            return Path(self._stderr.name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def poll(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the simulator to exit (``subprocess.TimeoutExpired`` after ``timeout``)."""
        if self._proc is None:
            raise SimulatorError("the simulator has not been started")
        return self._proc.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, wait, then SIGKILL; safe to call twice."""
        proc = self._proc
        if proc is not None:
            end_child(proc, timeout)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.returncode

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def end_child(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Close the child's stdin (its lifeline: EOF alone makes it exit), then SIGTERM, wait, SIGKILL."""
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
