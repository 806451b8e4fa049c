"""The demo database is made the real way and holds what a person exploring it expects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from console.clinic.records import find_patient
from console.demo import PATIENTS, build_demo_database
from console.people.admin import DEMO_ACCOUNTS
from console.people.login import authenticate
from console.people.user import is_demo_database
from console.review.export import session_export
from console.review.signoff import signatures_for
from console.safety.start_gate import gate_for_patient
from db.database import open_database
from tests.conftest import SHARED


def test_demo_patient_with_recorded_sessions_accounts_and_a_signature(tmp_path: Path) -> None:
    carter = next(p for p in PATIENTS if p.clinic_id == "MRN-1002")  # three short iTBS sessions
    lines: list[str] = []
    ids = build_demo_database(tmp_path / "demo.db", progress=lines.append, patients=(carter,))
    assert len(ids) == 3 and any("noise" in line for line in lines)
    db = open_database(tmp_path / "demo.db")
    try:
        assert is_demo_database(db)
        for username, _name, role, password in DEMO_ACCOUNTS:
            assert authenticate(db, username, password).role == role
        rows = db.execute(
            "SELECT status, pulses_delivered, pulses_recorded, frames_rejected FROM sessions ORDER BY id"
        ).fetchall()
        assert [r[0] for r in rows] == ["completed"] * 3
        assert all(r[1] == 600 for r in rows)
        # The noisy line lost frames and never invented any. Which frames the noise hits depends on
        # how pose and pulse frames interleave in time, so the count of lost pulses varies from run
        # to run (it may be none); what must hold is that each one lost is reported as missing.
        assert rows[1][3] > 0 and rows[1][2] <= 600
        missing = db.execute(
            "SELECT COALESCE(SUM(json_extract(detail, '$.pulses')), 0) FROM session_events "
            "WHERE session_id = ? AND kind = 'pulses_missing'", (ids[1],)).fetchone()[0]
        assert rows[1][2] + missing == rows[1][1]
        assert [s.meaning for s in signatures_for(db, ids[0])] == ["reviewed"]
        schema = json.loads((SHARED / "protocol" / "session-export.schema.json").read_text())
        jsonschema.validate(session_export(db, ids[2]), schema)
        # `make run` must let a person run the next session: nothing in the demo's own records
        # blocks it (an MT older than the clinic's weekly re-measure did, for every patient).
        patient = find_patient(db, carter.clinic_id)
        assert patient is not None
        gate = gate_for_patient(db, patient.id)
        assert gate.blocker_messages == []
        # ... nor a physician's signature: the demo's sessions were on earlier days, one a day, so
        # today's is the day's planned one (they all had today's date, and each was "session 4
        # today", beyond the plan).
        assert gate.pending == [] and gate.can_start
        days = [r[0][:10] for r in db.execute("SELECT started_at FROM sessions ORDER BY id")]
        assert len(set(days)) == 3
    finally:
        db.close()


def test_demo_data_refuses_an_existing_database(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    open_database(path).close()
    out = subprocess.run([sys.executable, str(Path(__file__).parents[1] / "main.py"), "demo-data",
                          "--db", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "already exists" in out.stderr
    db = open_database(path)
    assert not is_demo_database(db)
    db.close()
