"""The audit trail: append-only in SQL, and a hash chain that names the first tampered row."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from console.audit import audit, history, verify, write_transaction
from console.people.login import authenticate
from db.database import open_database
from tests.accounts.conftest import PASSWORDS

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ("id", "at", "actor", "action", "entity", "entity_id", "old_values", "new_values",
           "prev_hash", "hash")


def run_main(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def fill(db, people) -> None:
    authenticate(db, "tom", PASSWORDS["tom"])
    audit(db, people["tom"], "create", "patient", 7, None, {"clinic_id": "P-7", "note": "MARKER-ROW-x"})
    audit(db, "sue", "change", "course", 3, {"percent_mt": 110}, {"percent_mt": 120})


@pytest.fixture
def logged(db, people):
    fill(db, people)
    return db


def test_a_row_says_who_when_what_with_old_and_new_values(logged, people) -> None:
    row = history(logged, "course", 3)[0]
    assert (row["actor"], row["action"], row["old"], row["new"]) == (
        "sue", "change", {"percent_mt": 110}, {"percent_mt": 120})
    assert row["at"].endswith("+00:00")  # UTC, with its offset
    audit(logged, None, "set", "setting", "x", None, {"password": "hunter22", "value": 1})
    assert history(logged, "setting")[0]["new"] == {"password": "(not recorded)", "value": 1}
    assert history(logged, "setting")[0]["actor"] == "system"


def test_verify_reports_rows_and_head_hash(logged) -> None:
    result = verify(logged)
    last = logged.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert result.ok and result.rows == last[0] and result.head_hash == last[1]
    assert result.rows >= 7  # 4 accounts, a login, a patient, a course change


def test_update_and_delete_are_refused_by_the_database(logged) -> None:
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        logged.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        logged.execute("DELETE FROM audit_log WHERE id = 2")
    assert verify(logged).ok


def test_a_change_rolled_back_takes_its_audit_row_with_it(logged) -> None:
    rows = verify(logged).rows
    with pytest.raises(RuntimeError), write_transaction(logged):
        audit(logged, "tom", "create", "patient", 8, None, {"clinic_id": "P-8"})
        raise RuntimeError("the change itself failed")
    assert verify(logged).rows == rows
    audit(logged, "tom", "create", "patient", 8, None, {"clinic_id": "P-8"})
    assert verify(logged).ok and verify(logged).rows == rows + 1


def _tampered(template: Path, tmp_path: Path, sql: str, params: list) -> Path:
    """A copy of the database changed with plain sqlite3, triggers dropped, as an intruder would."""
    copy = tmp_path / f"copy-{len(list(tmp_path.glob('copy-*')))}.db"
    shutil.copy(template, copy)
    conn = sqlite3.connect(copy)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute(sql, params)
    conn.commit()
    conn.close()
    return copy


def _changed(value):
    if value is None:
        return "x"
    if isinstance(value, int):
        return value + 1000
    middle = len(value) // 2
    return value[:middle] + ("0" if value[middle] != "0" else "1") + value[middle + 1:]


def test_changing_any_field_of_any_row_names_that_row(db, people, db_path, tmp_path) -> None:
    fill(db, people)
    rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_log ORDER BY id").fetchall()
    db.close()
    for row in rows:
        for column, value in zip(COLUMNS, row, strict=True):
            copy = _tampered(db_path, tmp_path, f"UPDATE audit_log SET {column} = ? WHERE id = ?",
                             [_changed(value), row[0]])
            check = open_database(copy)
            result = verify(check)
            check.close()
            assert not result.ok, (row[0], column)
            assert result.first_bad_row == row[0], (row[0], column, result.problem)
            copy.unlink()


def test_a_removed_row_is_named_even_the_last_one(db, people, db_path, tmp_path) -> None:
    fill(db, people)
    total = verify(db).rows
    db.close()
    for victim in (3, total):
        copy = _tampered(db_path, tmp_path, "DELETE FROM audit_log WHERE id = ?", [victim])
        check = open_database(copy)
        result = verify(check)
        check.close()
        assert (result.ok, result.first_bad_row) == (False, victim), result.problem
        assert "missing" in result.problem


def test_audit_verify_command_names_a_row_changed_in_the_file_itself(db, people, db_path) -> None:
    fill(db, people)
    head = verify(db)
    row = history(db, "patient", 7)[0]["id"]
    db.close()
    out = run_main("audit", "verify", "--db", str(db_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"ok {head.rows} rows, head {head.head_hash}"
    # Edit one byte of the file, as a hex editor would, inside the patient-creation row.
    data = bytearray(db_path.read_bytes())
    at = data.find(b"MARKER-ROW-x")
    assert at > 0 and data.find(b"MARKER-ROW-x", at + 1) == -1
    data[at + 7] = ord("Q")
    db_path.write_bytes(bytes(data))
    out = run_main("--db", str(db_path), "audit", "verify")
    assert out.returncode == 1
    assert out.stdout.startswith(f"BROKEN at row {row}:"), out.stdout


def test_audit_verify_on_a_missing_file_says_so(tmp_path) -> None:
    out = run_main("audit", "verify", "--db", str(tmp_path / "none.db"))
    assert out.returncode == 2 and "does not exist" in out.stderr
    assert not (tmp_path / "none.db").exists()
