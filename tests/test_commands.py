"""Every headless command is registered by name in main.py, and every one answers --help."""

from __future__ import annotations

import argparse
import json
import logging
import pkgutil
from pathlib import Path

import pytest

import cli
import main
from resources import SHIPPED

ROOT = Path(__file__).resolve().parent.parent


def test_every_command_module_is_registered() -> None:
    # A module in cli/ with register() that main.COMMANDS does not name is a command nobody can run.
    with_register = set()
    for info in pkgutil.iter_modules(cli.__path__):
        source = (ROOT / "cli" / f"{info.name}.py").read_text(encoding="utf-8")
        if "\ndef register(" in source:
            with_register.add(f"cli.{info.name}")
    assert with_register == {command.__name__ for command in main.COMMANDS}


def test_every_command_answers_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = main.build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(commands.choices) >= len(main.COMMANDS)
    for name in commands.choices:
        with pytest.raises(SystemExit) as stop:
            parser.parse_args([name, "--help"])
        assert stop.value.code == 0, name
        assert "usage:" in capsys.readouterr().out


def test_running_main_twice_logs_each_line_once(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        main.setup_logging()
        main.setup_logging()
        added = [h for h in root.handlers if h not in before]
        assert sorted(type(h).__name__ for h in added) == ["PrivateRotatingFileHandler", "StreamHandler"]
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
            handler.close()


def test_a_command_stops_on_a_broken_resource_file_naming_file_and_field(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # The GUI checks the clinic's resource files at start; a headless command must too, or `record`
    # would run a session with a checklist or safety table nobody could read.
    folder = tmp_path / "clinic-resources"
    folder.mkdir()
    limits = json.loads((SHIPPED / "safety_limits.json").read_text(encoding="utf-8"))
    del limits["clinic_max_percent_mt"]
    (folder / "safety_limits.json").write_text(json.dumps(limits), encoding="utf-8")
    monkeypatch.setenv("TMS_CONSOLE_RESOURCES", str(folder))
    db = tmp_path / "clinic.db"

    code = main.main(["review", "list", "--db", str(db)])

    err = capsys.readouterr().err
    assert code == 2
    assert "safety_limits.json" in err and "required property" in err
    assert "Traceback" not in err
    assert not db.exists()
