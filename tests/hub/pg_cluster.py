"""A private PostgreSQL cluster for one test: its own data folder, its own port, stopped and started at will.

The shared server on 127.0.0.1:5432 must never be stopped by a test (other tests use it at the same
time), so a test that stops and restarts "the hub" gets a cluster of its own: ``initdb`` in a temp
folder, ``pg_ctl start`` on a free port of 127.0.0.1 with trust auth, ``pg_ctl stop -m fast`` or
``-m immediate`` (a crash: the next start runs crash recovery), and removed afterwards.

Debian's server binaries live in ``/usr/lib/postgresql/<version>/bin`` (not on PATH); the newest
version there is used, else whatever ``initdb`` PATH finds. ``initdb`` refuses to run as root, so
as root the cluster runs as the ``postgres`` system user (``runuser``), in a folder that user owns.
A cluster whose test process was killed (its server lives on as a daemon) is stopped and removed
by the next test that makes one.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or no user to run them as; the test skips with this."""


def server_bin_dir() -> Path:
    """The folder of ``initdb``/``pg_ctl``: Debian's newest version, else the one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit()
                   else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise ClusterUnavailable("no PostgreSQL server binaries (initdb) found in /usr/lib/postgresql/*/bin "
                             "or on PATH; install Debian's postgresql package")


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PREFIX = "tms-pg-"
OWNER_FILE = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans(bin_dir: Path, as_user: list[str]) -> None:
    """Stop and remove the clusters of test processes that died without cleaning up (killed by a
    timeout, say): the server itself outlives them, pg_ctl having made it a daemon."""
    for root in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((root / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        if (root / "data" / "postmaster.pid").exists():
            subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate",
                            "-w", "stop"], capture_output=True, timeout=120, cwd=tempfile.gettempdir())
        shutil.rmtree(root, ignore_errors=True)


class PgCluster:
    """``start()`` makes the cluster the first time (initdb) and starts it; ``stop(mode)``;
    ``close()`` stops it and removes its folder. Use as a context manager."""

    def __init__(self, port: int | None = None) -> None:
        self.bin = server_bin_dir()
        self.port = port or free_port()
        self._as_user: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ClusterUnavailable("running as root and there is no 'postgres' system user to run "
                                         "the server as") from exc
            self._as_user = ["runuser", "-u", "postgres", "--"]
        reap_orphans(self.bin, self._as_user)
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX))
        (self.root / OWNER_FILE).write_text(str(os.getpid()))
        if owner is not None:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._made = False

    # --- the server ------------------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self._as_user, *args], capture_output=True, text=True, timeout=timeout,
                              cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): "
                               f"{done.stderr.strip() or done.stdout.strip()}\n{self.log_tail()}")
        return done

    def _initdb(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync")
        self._made = True

    def start(self) -> PgCluster:
        """Start (initdb first if need be); returns once the server accepts connections. The first
        start moves to another free port if someone took this one meanwhile (a restart keeps it)."""
        first = not self._made
        if first:
            self._initdb()
        for attempt in range(3):
            try:
                self._start()
                return self
            except RuntimeError:
                if not first or attempt == 2 or "already in use" not in self.log_tail():
                    raise
                self.port = free_port()
        return self

    def _start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "120", "start", timeout=150)

    def stop(self, mode: str = "fast") -> None:
        """``fast``: every connection is ended, a clean shutdown; ``immediate``: the server quits at once,
        as if it crashed (the next start recovers from its WAL)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "120", "stop",
                  timeout=150)

    def running(self) -> bool:
        done = subprocess.run([*self._as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
                              capture_output=True, text=True, timeout=60, cwd=self.root)
        return done.returncode == 0

    def close(self) -> None:
        """Stop the server if it runs and remove its folder (safe to call twice)."""
        try:
            if self._made and self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    # --- addresses -------------------------------------------------------------------------------

    def url(self, dbname: str = "postgres", port: int | None = None) -> str:
        """A conninfo for ``dbname`` on this cluster (or through a forwarder's ``port``)."""
        return f"postgresql://postgres@127.0.0.1:{port or self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
