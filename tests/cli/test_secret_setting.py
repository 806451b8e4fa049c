"""Issue 16: a Magstim Rapid's unlock code is a secret clinic setting, never shown, logged, kept in
the audit log or in a remembered address; the console adds it to the address it opens."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import main
from console.clinic.device_address import complete_address, with_clinic_secrets
from console.clinic.settings import get_setting
from console.people.admin import create_user
from db.database import open_database
from devices.adapter import redact_url

CODE = "9876-54321098-76"


def _settings(monkeypatch, capsys, db: Path, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main.main(["settings", *argv, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_unlock_code_is_asked_never_taken_from_the_command_line_and_never_shown(
    tmp_path: Path, monkeypatch, capsys, fast_hasher,
) -> None:
    db_path = tmp_path / "clinic.db"
    db = open_database(db_path)
    create_user(db, None, "ada", "Ada Admin", "admin", "Admin-quiet-harbour-47")
    db.close()
    code, _out, err = _settings(monkeypatch, capsys, db_path, "set", "magstim_unlock_code", CODE,
                                "--admin", "ada", "--password-stdin", stdin="Admin-quiet-harbour-47\n")
    assert code == 1 and "secret" in err and CODE not in err
    code, out, err = _settings(monkeypatch, capsys, db_path, "set", "magstim_unlock_code", "--admin", "ada",
                               "--password-stdin", stdin=f"Admin-quiet-harbour-47\n{CODE}\n")
    assert code == 0, err
    assert CODE not in out + err
    code, out, _err = _settings(monkeypatch, capsys, db_path, "list")
    line = next(x for x in out.splitlines() if x.startswith("magstim_unlock_code"))
    assert "(set)" in line and CODE not in out
    db = open_database(db_path)
    try:
        assert get_setting(db, "magstim_unlock_code") == CODE
        audit = "\n".join(str(r) for r in db.execute("SELECT * FROM audit_log").fetchall())
        assert "magstim_unlock_code" in audit and CODE not in audit
        # the console completes an address without the code, or one remembered with it masked
        assert with_clinic_secrets(db, "magstim+serial:///dev/ttyUSB0?model=rapid") == (
            f"magstim+serial:///dev/ttyUSB0?model=rapid&unlock={CODE}")
        remembered = redact_url(f"magstim+serial:///dev/ttyUSB0?unlock={CODE}&model=rapid")
        assert remembered == "magstim+serial:///dev/ttyUSB0?unlock=***&model=rapid"
        assert with_clinic_secrets(db, remembered).endswith(f"model=rapid&unlock={CODE}")
        # an address with its own code keeps it; other devices are left alone
        own = "magstim+serial:///dev/ttyUSB0?unlock=1111-22222222-33"
        assert with_clinic_secrets(db, own) == own
        assert with_clinic_secrets(db, "tscp+serial:///dev/ttyUSB0") == "tscp+serial:///dev/ttyUSB0"
    finally:
        db.close()
    assert complete_address("magstim+serial:///dev/x", {}) == "magstim+serial:///dev/x"
