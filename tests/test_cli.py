"""The command line itself: help, version, and a clear line instead of a Qt abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )


def test_version_and_help() -> None:
    from console import __version__

    out = run_main("--version")
    assert out.returncode == 0 and __version__ in out.stdout
    out = run_main("--help")
    assert out.returncode == 0 and "--db" in out.stdout


def test_gui_without_a_display_says_so_in_one_line() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = run_main(env=env)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "xvfb-run" in lines[0]


def test_commands_write_the_rotating_log_file(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = run_main("record", "--device", "sim://itbs?speed=1000", "--patient", "LOG-1",
                   "--create-patient", "--db", str(tmp_path / "c.db"), env=env)
    assert out.returncode == 0, out.stderr
    logs = list((tmp_path / "state").rglob("tms-console.log"))
    assert logs, "no log file in the platform's log folder"
    text = logs[0].read_text()
    assert "recording from sim://itbs" in text
    assert "Demo Patient" not in text  # ids, never names
