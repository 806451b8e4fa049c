"""Export of a recorded session: JSON valid against the shared schema, CSV one row per pulse."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from console.audit import history, verify
from console.review.export import CSV_COLUMNS, ExportError, session_export, write_csv
from db.database import open_database
from tests.cli.accounts import account
from tests.conftest import SHARED

from .capture import write_run
from .test_runner import new_patient, record

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((SHARED / "protocol" / "session-export.schema.json").read_text())


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    tmp = tmp_path_factory.mktemp("export")
    db_path = tmp / "clinic.db"
    open_database(db_path).close()
    _, plan = new_patient(db_path)
    capture = write_run(tmp / "run.tscp", drop_pulses=(5,), hidden_ms=(20_000, 23_000),
                        fault_ms=(40_000, 52_000))
    runner, _ = record(db_path, capture, plan)
    return db_path, runner.session_id


def test_json_export_is_valid_and_complete(recorded: tuple[Path, int]) -> None:
    db_path, sid = recorded
    db = open_database(db_path)
    data = session_export(db, sid)
    jsonschema.validate(data, SCHEMA)
    s, summary = data["session"], data["summary"]
    assert s["status"] == "completed" and s["patient"] == {"id": "P-100", "initials": "JQD"}
    assert s["protocol"]["pulses_per_train"] == 30 and s["protocol"]["burst"] == 3
    assert s["prescription"] == {"mt_mso": 52.0, "percent_mt": 120.0, "mso": 62}
    assert s["tolerance"] == {"distance_mm": 3.0, "angle_deg": 3.0}
    assert summary["pulses_delivered"] == 600 and summary["pulses_recorded"] == len(data["pulses"]) == 599
    assert [p["count"] for p in data["pulses"][:5]] == [1, 2, 3, 4, 6]
    hidden = [p for p in data["pulses"] if p["pose"] is None]
    assert hidden and all(p["distance_mm"] is None for p in hidden)
    assert summary["pulses_on_target"] == 599 - len(hidden)
    assert summary["faults"] == 1
    kinds = {(e["kind"], e["code"]) for e in data["events"]}
    assert {("fault", "COIL_OVERTEMP"), ("clear", "COIL_OVERTEMP"), ("pulses_missing", None),
            ("alarm", "tracker_lost"), ("alarm", "device_fault"), ("end", "completed")} <= kinds
    # the same session by its UUID
    assert session_export(db, s["id"])["session"]["local_id"] == sid
    with pytest.raises(ExportError):
        session_export(db, 999)
    db.close()


def test_csv_has_one_row_per_pulse(recorded: tuple[Path, int]) -> None:
    db_path, sid = recorded
    db = open_database(db_path)
    out = io.StringIO()
    assert write_csv(db, sid, out) == 599
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 599
    assert rows[0]["count"] == "1" and rows[0]["mso"] == "62" and rows[0]["on_target"] == "1"
    db.close()


def run_main(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_export_command_writes_json_csv_and_refuses_clearly(
    recorded: tuple[Path, int], tmp_path: Path
) -> None:
    db_path, sid = recorded
    out = run_main("export", str(sid), "--format", "json", "--db", str(db_path), *account(db_path))
    assert out.returncode == 0, out.stderr
    jsonschema.validate(json.loads(out.stdout), SCHEMA)
    target = tmp_path / "s.csv"
    out = run_main("export", str(sid), "--format", "csv", "--db", str(db_path), "--out", str(target),
                   *account(db_path))
    assert out.returncode == 0, out.stderr
    assert len(target.read_text().splitlines()) == 600
    out = run_main("export", "4242", "--db", str(db_path), *account(db_path))
    assert out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1 and "4242" in out.stderr
    out = run_main("export", "1", "--db", str(tmp_path / "missing.db"))
    assert out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1


def _session_exports(db_path: Path, sid: int) -> list[dict]:
    db = open_database(db_path)
    try:
        return [r for r in history(db, "session", sid) if r["action"] == "export_session"]
    finally:
        db.close()


def test_a_command_line_export_leaves_one_audit_row_naming_the_clinic_user(
    recorded: tuple[Path, int], tmp_path: Path
) -> None:
    db_path, sid = recorded
    before = len(_session_exports(db_path, sid))
    target = tmp_path / "pulses.csv"
    out = run_main("export", str(sid), "--format", "csv", "--db", str(db_path), "--out", str(target),
                   *account(db_path))
    assert out.returncode == 0, out.stderr
    rows = _session_exports(db_path, sid)
    assert len(rows) == before + 1
    row = rows[0]  # newest first
    assert row["entity_id"] == str(sid)
    assert row["new"]["format"] == "csv" and row["new"]["to"] == str(target)
    # The command line says who is asking (--user, issue 15): the row names that clinic user.
    assert row["actor"] == "test-supervisor" and "login" not in row["new"]
    out = run_main("export", str(sid), "--db", str(db_path), *account(db_path))  # to stdout: audited too
    assert out.returncode == 0 and json.loads(out.stdout)["session"]["local_id"] == sid
    assert _session_exports(db_path, sid)[0]["new"]["to"] == "standard output"
    out = run_main("export", "4242", "--db", str(db_path), *account(db_path))
    assert out.returncode != 0 and len(_session_exports(db_path, sid)) == before + 2
    db = open_database(db_path)
    try:
        assert verify(db).ok  # the chain still holds: `audit verify` passes
    finally:
        db.close()


def test_an_export_whose_audit_row_cannot_be_written_is_not_made(
    recorded: tuple[Path, int], tmp_path: Path
) -> None:
    db_path, sid = recorded
    copy = tmp_path / "clinic.db"
    copy.write_bytes(db_path.read_bytes())
    db = open_database(copy)
    db.execute("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'full'); END")
    db.close()
    target = tmp_path / "s.json"
    out = run_main("export", str(sid), "--db", str(copy), "--out", str(target), *account(copy))
    assert out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1
    assert not target.exists() and list(tmp_path.glob(".s.json.*")) == []

