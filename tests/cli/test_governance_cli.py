"""Issue 15: who is asking on every command that reads patient data, and the audit row it leaves.

Real database file, a session recorded from a capture through the real runner, ``main.main``
run as the command line runs it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import main
from console.audit import history, verify
from console.clinic.settings import set_setting
from db.database import open_database
from tests.cli.accounts import PASSWORD, account
from tests.engine.capture import write_run
from tests.engine.test_runner import new_patient, record


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    tmp = tmp_path_factory.mktemp("governance-cli")
    db_path = tmp / "clinic.db"
    open_database(db_path).close()
    account(db_path, "admin")  # the first admin, who sets what the note needs
    db = open_database(db_path)
    set_setting(db, "clinic_phone", "555-0142", "test-admin")
    set_setting(db, "supervising_physician", "Dr. Priya Natarajan", "test-admin")
    db.close()
    _, plan = new_patient(db_path)
    runner, _ = record(db_path, write_run(tmp / "run.tscp"), plan)
    return db_path, runner.session_id


def _rows(db_path: Path, action: str) -> list[dict]:
    db = open_database(db_path, create=False)
    try:
        return [r for r in history(db) if r["action"] == action]
    finally:
        db.close()


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def _out(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return out


READERS = {
    "export": lambda sid, tmp: ["export", str(sid), "--out", str(tmp / "s.json")],
    "note": lambda sid, tmp: ["note", str(sid), "--out", str(tmp / "n.txt")],
    "review list": lambda sid, tmp: ["review", "list", "--review", "all"],
    "review export-csv": lambda sid, tmp: ["review", "export-csv", "--review", "all",
                                           "--out", str(tmp / "r.csv")],
    "backup": lambda sid, tmp: ["backup", str(tmp / "copy.db")],
}


@pytest.mark.parametrize("command", list(READERS))
def test_a_reader_on_a_real_database_needs_a_user(recorded, tmp_path: Path, capsys, command: str) -> None:
    db_path, sid = recorded
    argv = [*READERS[command](sid, _out(tmp_path)), "--db", str(db_path)]
    assert main.main(argv) != 0
    assert "--user" in _one_line(capsys.readouterr().err)
    assert not list(_out(tmp_path).iterdir())  # nothing written


@pytest.mark.parametrize("command", list(READERS))
def test_a_wrong_password_is_refused_and_writes_nothing(recorded, tmp_path: Path, capsys,
                                                        command: str) -> None:
    db_path, sid = recorded
    who = account(db_path, "supervisor", f"test-wrong-{command.replace(' ', '-')}")
    wrong = tmp_path / ".wrong"
    wrong.write_text("not-the-password\n")
    argv = [*READERS[command](sid, _out(tmp_path)), "--db", str(db_path), *who[:2],
            "--password-file", str(wrong)]
    assert main.main(argv) == 1
    assert "Wrong user name or password" in _one_line(capsys.readouterr().err)
    assert not list(_out(tmp_path).iterdir())


@pytest.mark.parametrize(("command", "action"), [
    ("export", "export_session"), ("note", "write_note"), ("review list", "view_review_list"),
    ("review export-csv", "export_review_list"), ("backup", "backup_database")])
def test_every_read_of_patient_data_is_audited_under_the_user(recorded, tmp_path: Path, capsys,
                                                              command: str, action: str) -> None:
    db_path, sid = recorded
    who = account(db_path, "supervisor", "test-reader")
    before = len(_rows(db_path, action))
    argv = [*READERS[command](sid, _out(tmp_path)), "--db", str(db_path), *who]
    assert main.main(argv) == 0, capsys.readouterr().err
    rows = _rows(db_path, action)
    assert len(rows) == before + 1 and rows[0]["actor"] == "test-reader"
    db = open_database(db_path, create=False)
    try:
        assert verify(db).ok
    finally:
        db.close()


def test_the_role_must_allow_the_command(recorded, tmp_path: Path, capsys) -> None:
    db_path, sid = recorded
    who = account(db_path, "technician")
    assert main.main(["export", str(sid), "--out", str(tmp_path / "s.json"), "--db", str(db_path), *who]) == 1
    assert "technician cannot export" in _one_line(capsys.readouterr().err)
    assert not (tmp_path / "s.json").exists()


def test_the_password_may_come_from_the_environment(recorded, tmp_path: Path, capsys,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    db_path, sid = recorded
    who = account(db_path, "supervisor")
    monkeypatch.setenv("TMS_CONSOLE_PASSWORD", PASSWORD)
    assert main.main(["export", str(sid), "--db", str(db_path), *who[:2]]) == 0
    assert json.loads(capsys.readouterr().out)["session"]["local_id"] == sid


def test_help_names_the_password_sources_and_no_password_option(capsys) -> None:
    with pytest.raises(SystemExit):
        main.main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--user" in text and "--password-file" in text and "TMS_CONSOLE_PASSWORD" in text
    assert "--password " not in text


def test_a_demo_database_falls_back_to_the_demo_account(recorded, tmp_path: Path, capsys) -> None:
    from console.people.admin import create_demo_accounts, mark_demo_database

    db_path = tmp_path / "demo.db"
    db = open_database(db_path)
    mark_demo_database(db)
    create_demo_accounts(db)
    db.close()
    assert main.main(["review", "list", "--db", str(db_path)]) == 0
    assert "demo account 'supervisor'" in capsys.readouterr().err
    assert _rows(db_path, "view_review_list")[0]["actor"] == "supervisor"
