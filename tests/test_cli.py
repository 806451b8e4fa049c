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
    from tests.engine import clinic_setup

    clinic_setup.clinic(tmp_path / "c.db", "itbs", clinic_id="LOG-1")  # a patient ready to treat
    user, with_password = clinic_setup.login_for(tmp_path / "c.db")
    out = run_main("record", "--device", "sim://itbs?speed=1000", "--patient", "LOG-1",
                   "--db", str(tmp_path / "c.db"), *user,
                   env={**env, "TMS_CONSOLE_PASSWORD": with_password["TMS_CONSOLE_PASSWORD"]})
    assert out.returncode == 0, out.stderr
    logs = list((tmp_path / "state").rglob("tms-console.log"))
    assert logs, "no log file in the platform's log folder"
    text = logs[0].read_text()
    assert "recording from sim://itbs" in text
    assert "Alex Example" not in text  # ids, never names


# Bytes that are not UTF-8, as a shell passes them (``$'\xff'``): Python decodes them to lone surrogates.
BAD = os.fsdecode(b"P-\xff")


def _one_clear_line(stderr: str, shown: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "Logging error" not in stderr
    assert "not valid UTF-8" in lines[0] and shown in lines[0]


def test_a_clinic_id_that_is_not_utf8_is_one_clear_line(tmp_path: Path, capsys) -> None:
    import main

    db = tmp_path / "c.db"
    assert main.main(["--db", str(db), "users", "list"]) == 0  # an empty clinic database
    capsys.readouterr()
    for argv in (["review", "list", "--patient", BAD, "--db", str(db)],
                 ["review", "list", "--search", BAD, "--db", str(db)],
                 ["record", "--device", "sim://itbs", "--patient", BAD, "--db", str(db)]):
        assert main.main(argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.out == ""
        _one_clear_line(captured.err, "P-\\xff")


def test_paths_that_are_not_utf8_are_one_clear_line_from_a_shell(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "QT_QPA_PLATFORM": "offscreen"}
    folder = os.fsencode(tmp_path)
    good = str(tmp_path / "c.db")
    assert run_main("--db", good, "users", "list", env=env).returncode == 0
    for argv in ([b"--db", folder + b"/\xff.db", b"users", b"list"],
                 [b"review", b"list", b"--db", folder + b"/\xff.db"],
                 [b"note", b"1", b"--out", folder + b"/\xff.txt", b"--db", os.fsencode(good)],
                 [b"review", b"list", b"--patient", b"\xff\xfe", b"--db", os.fsencode(good)]):
        out = subprocess.run([sys.executable, str(ROOT / "main.py"), *argv], capture_output=True,
                             timeout=60, env=env, cwd=ROOT)
        assert out.returncode == 2, argv
        _one_clear_line(out.stderr.decode("utf-8", "backslashreplace"), "\\xff")
    assert not list(tmp_path.glob(os.fsdecode(b"\xff") + "*"))  # nothing was made under such a name


def test_the_log_file_is_readable_by_its_owner_only_even_after_rotation(
        tmp_path: Path, umask_022: None, monkeypatch) -> None:
    # Log lines carry session and patient ids: like the database and the notes, the file is 0600,
    # and so is each new file the rotation starts.
    import logging

    import main
    from console import paths

    folder = tmp_path / "logs"
    monkeypatch.setattr(paths, "log_dir", lambda: folder)
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        main.setup_logging()
        [handler] = [h for h in root.handlers if h not in before and hasattr(h, "doRollover")]
        logging.getLogger("test").warning("session 7 recording")
        handler.flush()
        log_file = folder / "tms-console.log"
        assert log_file.stat().st_mode & 0o777 == 0o600
        handler.doRollover()
        logging.getLogger("test").warning("after the rotation")
        handler.flush()
        assert log_file.stat().st_mode & 0o777 == 0o600
        assert (folder / "tms-console.log.1").stat().st_mode & 0o777 == 0o600
    finally:
        for added in [h for h in root.handlers if h not in before]:
            root.removeHandler(added)
            added.close()
