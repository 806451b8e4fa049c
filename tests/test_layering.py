"""The direction of dependency is a checked contract (import-linter, pyproject.toml).

A contract that stays kept whatever the code does protects nothing, so each
kind of break is made on purpose in a copy of the source tree and must fail
``lint-imports`` naming the contract it breaks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["cli", "console", "devices", "db", "resources"]

QT_CONTRACT = "Qt only in console.ui: not in the domain, devices, db, resources"
CLI_QT_CONTRACT = "cli imports no Qt directly"
CONSOLE_LAYERS = "console layers, top to bottom (exhaustive)"
CYCLES = "no import cycles in cli, console, devices or db"
WIDGETS_OFF_DB = "widgets never touch the database or resource files"
RESOURCES_CHECKED = "the domain reads resource files only through console.resource_data"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("lint-imports is not installed: the dev extra of pyproject.toml brings it")
    # The copy comes first on the path, ahead of the editable install of the real tree.
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "200"}
    return subprocess.run([exe, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def _broken(output: str) -> set[str]:
    return {m.group(1).strip() for m in re.finditer(r"^(.+?) BROKEN\b", output, re.MULTILINE)}


def _contract_names() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["name"] for c in config["tool"]["importlinter"]["contracts"]}


def test_layer_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The program's sources and pyproject.toml, copied so they can be broken on purpose."""
    copy = tmp_path / "tree"
    copy.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    for name in ("main.py", "pyproject.toml"):
        shutil.copy2(ROOT / name, copy / name)
    return copy


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(f"\n{line}\n")


BREAKS = {
    "Qt in the domain": (
        [("console/session/recorder.py", "import PySide6  # noqa")], {QT_CONTRACT},
        "console.session.recorder -> PySide6",
    ),
    "Qt imported by a headless command": (
        [("cli/record.py", "import pyqtgraph  # noqa")], {CLI_QT_CONTRACT}, "cli.record -> pyqtgraph",
    ),
    "an import cycle": (
        [("console/session/recorder.py", "import console.session.runner  # noqa")], {CYCLES},
        "No cycles are allowed in console.session",
    ),
    "a widget reading the database itself": (
        [("console/ui/chair/alarms.py", "import sqlite_utils  # noqa")], {WIDGETS_OFF_DB},
        "console.ui.chair.alarms -> sqlite_utils",
    ),
    "a domain module reading a resource file unchecked": (
        [("console/safety/limits.py", "from resources import load_json  # noqa")], {RESOURCES_CHECKED},
        "console.safety.limits -> resources",
    ),
    "a console module given no layer": (
        [("console/unplaced.py", '"""Nowhere in the layers."""')], {CONSOLE_LAYERS},
        "- console.unplaced",
    ),
}


@pytest.mark.parametrize("what", list(BREAKS))
def test_contract_fails_when_broken(tree_copy: Path, what: str) -> None:
    edits, expected, named = BREAKS[what]
    assert expected <= _contract_names(), "the test names a contract pyproject.toml no longer has"
    for relative, line in edits:
        _append(tree_copy / relative, line)
    result = _lint_imports(tree_copy)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert _broken(result.stdout) == expected, output
    assert named in result.stdout, output
