"""Every file that takes a patient's record out of the database is readable by its owner only (0600),
under the usual umask 022 too, and also when it overwrites a file that was readable by all.

Through the real writers: the review window's PDF report and JSON export, and the commands a
clinic's script runs (``export``, ``review export-csv``, ``backup``) as subprocesses.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from console.ui.review.review_window import ReviewWindow
from tests.cli.accounts import account

ROOT = Path(__file__).resolve().parents[2]



def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def readable_by_all(path: Path) -> Path:
    """A file already there, as an earlier program run under umask 022 would have left it."""
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o644)
    return path


def run_main(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)


def test_the_pdf_report_and_the_windows_export_are_owner_only(qtbot, flag_db, tmp_path, umask_022) -> None:
    sid = flag_db.ids["unplug"]
    w = ReviewWindow(flag_db.db, flag_db.user("sue"))
    qtbot.addWidget(w)
    new_report, old_report = tmp_path / "report.pdf", readable_by_all(tmp_path / "old-report.pdf")
    for path in (new_report, old_report):
        assert w.write_report(sid, path) >= 1
        assert path.read_bytes().startswith(b"%PDF") and mode(path) == 0o600, path
    w.export_json(sid, tmp_path / "s.json")
    assert mode(tmp_path / "s.json") == 0o600


def test_the_commands_exports_and_backup_are_owner_only(flag_db, tmp_path, umask_022) -> None:
    flag_db.db.close()
    db, sid = str(flag_db.path), str(flag_db.ids["unplug"])
    made = {
        "export json": (["export", sid, "--format", "json", "--out"], tmp_path / "s.json"),
        "export csv": (["export", sid, "--format", "csv", "--out"], tmp_path / "s.csv"),
        "review list": (["review", "export-csv", "--review", "all", "--out"],
                        readable_by_all(tmp_path / "l.csv")),
        "backup": (["backup"], tmp_path / "backup.db"),
    }
    for what, (args, path) in made.items():
        out = run_main(*args, str(path), "--db", db, *account(flag_db.path))
        assert out.returncode == 0, (what, out.stderr)
        assert path.stat().st_size > 10 and mode(path) == 0o600, what
