"""Accountability costs: a login with the shipped Argon2id parameters, one audit row,
checking a year of audit rows, a backup of a database of that size.

Goals: a login under 1 s on a chair PC (Argon2id is meant to be slow, not that
slow); a year of audit rows (~100,000 at 8-12 patients a day) verified in under
10 s; audit() cheap beside the person's click (< 5 ms).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from cli.backup import backup_database
from console.audit import audit, verify
from console.people.admin import create_user
from console.people.login import authenticate
from db.database import open_database

ROWS = 100_000


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        db = open_database(path)
        create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
        start = time.perf_counter()
        for _ in range(5):
            authenticate(db, "ada", "admin-pass-1")
        login_ms = (time.perf_counter() - start) / 5 * 1000

        start = time.perf_counter()
        for i in range(2000):
            audit(db, "ada", "change", "course", i, {"percent_mt": 110}, {"percent_mt": 120})
        audit_ms = (time.perf_counter() - start) / 2000 * 1000
        with db.atomic():  # fill the rest quickly: the cost of interest is verify's
            for i in range(ROWS - 2000):
                audit(db, "tom", "create", "patient", i, None, {"clinic_id": f"P-{i}", "name": "x" * 20})
        start = time.perf_counter()
        result = verify(db)
        verify_s = time.perf_counter() - start
        db.close()
        size_mb = path.stat().st_size / 1e6
        start = time.perf_counter()
        backup_database(path, Path(tmp) / "copy.db")
        backup_s = time.perf_counter() - start
    figures = {
        "login_ms": round(login_ms, 1),
        "audit_row_ms": round(audit_ms, 2),
        "verify_rows": result.rows,
        "verify_s": round(verify_s, 2),
        "db_mb": round(size_mb, 1),
        "backup_s": round(backup_s, 2),
        "ok": result.ok and login_ms < 1000 and verify_s < 10 and audit_ms < 5,
    }
    for key, value in figures.items():
        print(f"{key:>14}: {value}")
    return figures
