"""Start-up goes through the domain (console.startup): the window gets an open store, and a problem
(a clinic's broken resource file, an unusable database) is a plain message, not a traceback."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from console.startup import StartupFailed, start
from console.ui import app as app_module
from resources import SHIPPED


def _broken_checklist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "clinic-resources"
    folder.mkdir()
    data = json.loads((SHIPPED / "checklist.json").read_text(encoding="utf-8"))
    del data["items"][2]["question"]
    (folder / "checklist.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("TMS_CONSOLE_RESOURCES", str(folder))


def test_the_program_says_which_file_and_field_is_wrong_instead_of_opening(
        qapp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _broken_checklist(tmp_path, monkeypatch)
    shown: list[str] = []
    monkeypatch.setattr(app_module.QMessageBox, "critical", lambda _parent, _title, text: shown.append(text))
    built: list[object] = []
    monkeypatch.setattr(app_module, "MainWindow", lambda *a, **k: built.append(a))

    code = app_module.run_app(argparse.Namespace(db=tmp_path / "clinic.db", demo=False))

    assert code == 2
    assert built == []
    assert len(shown) == 1
    assert "checklist.json: items[2].question: 'question' is a required property" in shown[0]
    assert "Traceback" not in shown[0]


def test_an_unusable_database_file_is_a_plain_message(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StartupFailed) as caught:
        start(path)
    assert str(path) in str(caught.value)


def test_start_opens_the_store_for_the_window(tmp_path: Path) -> None:
    started = start(tmp_path / "clinic.db")
    try:
        assert started.interrupted == []
        assert (tmp_path / "clinic.db").exists()
    finally:
        started.store.close()
