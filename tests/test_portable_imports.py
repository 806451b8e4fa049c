"""Every non-Qt module imports on a computer without POSIX terminals and file locks (Windows).

Most clinics run the console on Windows, where ``termios``, ``fcntl``, ``pty``
and ``tty`` do not exist. A module that imports one of them unconditionally
makes the whole program fail at start-up there, so each module is imported in
a fresh interpreter in which those imports raise ImportError, as on Windows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSIX_ONLY = ("termios", "fcntl", "pty", "tty")


def portable_modules() -> list[str]:
    """devices, db, cli, the non-Qt console and main.py, as dotted module names."""
    names = ["main"]
    for package in ("devices", "db", "cli", "console"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            if rel.parts[:2] == ("console", "ui") or rel.name == "__main__":
                continue  # the widgets need Qt (they run where Qt runs); __main__ would run a program
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            names.append(".".join(parts))
    return names


# pyserial picks its Windows back end there by itself; here its POSIX back end is imported first,
# so that only this project's own imports meet the blocked modules.
SCRIPT = """
import importlib, sys, traceback
import serial, serial.tools.list_ports
for name in {blocked!r}:
    sys.modules[name] = None  # 'import termios' now raises ImportError, as on Windows
failed = []
for module in {modules!r}:
    try:
        importlib.import_module(module)
    except Exception:
        failed.append(module + ": " + traceback.format_exc(limit=-2))
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_non_qt_module_imports_without_posix_terminal_modules() -> None:
    modules = portable_modules()
    assert "devices.serial_adapter" in modules and "db.session_lock" in modules
    script = SCRIPT.format(blocked=POSIX_ONLY, modules=modules)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_termios_a_failing_port_is_still_caught() -> None:
    """On Windows a port fails with SerialException or OSError; both are still caught there."""
    script = (
        "import sys, serial\n"
        "sys.modules['termios'] = None\n"
        "from devices.serial_port import PORT_ERRORS\n"
        "print(' '.join(sorted(e.__name__ for e in PORT_ERRORS)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["OSError", "SerialException"]
