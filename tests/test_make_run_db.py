"""`make run` and the README: where the demo database is kept, how to start afresh (issue 20, item 21)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli.demo_data import demo_db_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_passes_db_through_to_the_demo(tmp_path: Path) -> None:
    target = tmp_path / "fresh demo.db"
    dry = subprocess.run(["make", "-n", "run", f"DB={target}"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert f'main.py --demo --db "{target}"' in dry
    plain = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "main.py --demo" in plain and "--db" not in plain


def test_the_readme_says_where_the_demo_database_is_and_how_to_start_afresh() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run DB=" in readme
    path = demo_db_path()  # the tests move the user data folder; its last two parts are the program's
    assert f"/{path.parent.name}/{path.name}`" in readme
    if sys.platform.startswith("linux"):
        assert f"`~/.local/share/{path.parent.name}/{path.name}`" in readme
    assert "start afresh" in readme.lower()
