"""TMS Session Console — the one entry point: ``python main.py`` or ``tms-console``.

Composes the layers: parses the command line, picks the database and the
device adapter, and either runs a headless command or opens the GUI. Each
headless command lives in its own module, which adds its sub-parser here via
``register(subparsers)`` and sets ``func`` to the function that runs it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import cli.audit
import cli.backup
import cli.clinical_cmd
import cli.demo_data
import cli.devices_cmd
import cli.export
import cli.hub_cmd
import cli.note
import cli.patients_cmd
import cli.record
import cli.review
import cli.settings_cmd
import cli.simulate
import cli.users
from cli.common import undecodable_argument
from console import __version__
from console.startup import StartupFailed, check_resources

# The modules that add a sub-command (each has register(subparsers)), in --help order. Imported by
# name: a missing one fails here, at start, not as a command that silently is not there.
COMMANDS: tuple[ModuleType, ...] = (
    cli.audit,
    cli.backup,
    cli.hub_cmd,
    cli.users,
    cli.settings_cmd,
    cli.record,
    cli.export,
    cli.devices_cmd,
    cli.note,
    cli.simulate,
    cli.review,
    cli.patients_cmd,
    cli.clinical_cmd,
    cli.demo_data,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tms-console",
        description="TMS Session Console: record, review and hand off TMS treatment sessions.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--db", type=Path, default=None,
        help="the SQLite database file (default: a file in the user data folder)",
    )
    parser.add_argument(
        "--demo", action="store_true",
        help="open the console on the simulated device with a demo database",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def display_problem() -> str | None:
    """Why a window cannot open here, in one line, or None when it can."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.startswith(("offscreen", "minimal", "vnc", "eglfs", "linuxfb")):
        return None
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return (
            "No display is available (DISPLAY and WAYLAND_DISPLAY are unset): run it on a "
            "desktop, or under a virtual one with `xvfb-run make run` / `xvfb-run python main.py`."
        )
    if sys.platform.startswith("linux") and not platform and not os.environ.get("WAYLAND_DISPLAY"):
        missing = missing_xcb_libraries()
        if missing:
            return (
                "Qt cannot open a window on this X display: the system libraries "
                f"{', '.join(missing)} are missing (Debian/Ubuntu: apt-get install "
                f"{' '.join(XCB_LIBRARIES[m] for m in missing)})."
            )
    return None


# Libraries Qt's xcb plugin loads that a minimal Linux install may lack -> Debian package.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "EGL": "libegl1",
}


def missing_xcb_libraries() -> list[str]:
    """Qt aborts the process when these are missing; say so before it does."""
    import ctypes.util

    return [name for name in XCB_LIBRARIES if ctypes.util.find_library(name) is None]


def run_gui(args: argparse.Namespace) -> int:
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.demo:
        prepare_demo(args)
    from console.ui.app import run_app

    return run_app(args)


def prepare_demo(args: argparse.Namespace) -> None:
    """``--demo``: use the demo database, recording it from the simulator the first time."""
    from cli.demo_data import demo_db_path
    from console.demo import build_demo_database

    if args.db is None:
        args.db = demo_db_path()
    path = Path(args.db)
    if not path.exists():
        print(f"Making the demo database {path} (sessions recorded from the simulator)...", flush=True)
        build_demo_database(path, progress=lambda line: print(line, flush=True))


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_OURS = "_tms_console_handler"  # marks the handlers setup_logging added


def _private_log_handler(path: Path) -> logging.Handler:
    """A rotating log file readable by its owner only (0600), like every other file the program
    writes: its lines carry session and patient ids. Each new file after a rotation is private too,
    because the handler opens every file through ``open_private``."""
    from logging.handlers import RotatingFileHandler

    from devices.private_file import open_private

    class PrivateRotatingFileHandler(RotatingFileHandler):
        def _open(self) -> Any:  # the stdlib returns its own open file
            return open_private(self.baseFilename, "a", encoding=self.encoding, errors=self.errors)

    return PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=5,
                                      encoding="utf-8", errors="backslashreplace")


def setup_logging(*, verbose: bool = False) -> None:
    """Warnings to stderr; device connects, faults and errors also to a rotating file in the
    platform's log folder (the program's own messages carry ids, never patient names)."""
    from console.paths import log_dir

    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Once per process: a second call (main() run twice, as the tests do) replaces the handlers
    # instead of printing every line twice and keeping a second log file open.
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    console = logging.StreamHandler()
    setattr(console, _OURS, True)
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(console)
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        # backslashreplace: one odd character in a message must not cost the line (or print a
        # "Logging error" traceback in its place).
        handler = _private_log_handler(folder / "tms-console.log")
    except OSError as exc:  # a read-only home must not stop a session from being recorded
        console.handle(logging.makeLogRecord({"msg": f"no log file: {exc}", "levelno": logging.WARNING,
                                               "levelname": "WARNING", "name": "main"}))
        return
    setattr(handler, _OURS, True)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = sys.argv[1:] if argv is None else list(argv)
    problem = undecodable_argument(arguments)
    if problem is not None:  # before argparse, SQLite or the log file meets it
        print(f"error: {problem}", file=sys.stderr)
        return 2
    args = parser.parse_args(arguments)
    setup_logging(verbose=args.verbose)
    if args.command is None:
        return run_gui(args)
    try:
        # The same check the GUI makes at start: a clinic's edited resource file with a typo stops
        # the command with its file and field named, before anything is recorded or written. Not for
        # the simulator: it stands in for a device, is started at every sim:// connection, and reads
        # only its own two files.
        if args.command != "simulate":
            check_resources()
    except StartupFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `main.py devices | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
