"""A chair tells the hub its name and site at every push (the review station's filters), and a chair
whose clock is hours wrong pushes everything as recorded while the hub notes, and says, how far off."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from console.clinic.settings import set_setting
from console.people.user import get_user
from db.database import open_database
from db.hub.push import hub_status, push_ended_sessions
from tests.hub.compare import differences
from tests.hub.conftest import origin_of

ROOT = Path(__file__).resolve().parents[2]




def test_the_hub_knows_each_chair_by_the_name_and_site_its_admin_gave(chair_a: Path, chair_b: Path,
                                                                      hub: str) -> None:
    db = open_database(chair_a)
    try:
        admin = get_user(db, "admin")
        set_setting(db, "chair_name", "Room 2", admin)
        set_setting(db, "site", "Northside", admin)
    finally:
        db.close()
    push_ended_sessions(chair_a, hub, origin=origin_of(chair_a))
    push_ended_sessions(chair_b, hub, origin=origin_of(chair_b))
    with psycopg.connect(hub) as conn:
        chairs = dict(((o, (n, s)) for o, n, s in conn.execute("SELECT origin, name, site FROM chairs")))
    assert chairs == {origin_of(chair_a): ("Room 2", "Northside"), origin_of(chair_b): (None, None)}

    db = open_database(chair_a)
    try:
        set_setting(db, "chair_name", "Room 3", get_user(db, "admin"))  # the chair moved
    finally:
        db.close()
    push_ended_sessions(chair_a, hub, origin=origin_of(chair_a))
    with psycopg.connect(hub) as conn:
        name = conn.execute("SELECT name FROM chairs WHERE origin = %s", (origin_of(chair_a),)).fetchone()
    assert name == ("Room 3",)


def test_a_chair_clock_hours_wrong_loses_nothing_and_is_said(chair_a: Path, hub: str) -> None:
    wrong = lambda: datetime.now(UTC) - timedelta(hours=3, minutes=5)  # noqa: E731
    result = push_ended_sessions(chair_a, hub, origin=origin_of(chair_a), clock=wrong)
    assert len(result.pushed) == 8
    assert differences(chair_a, hub, origin_of(chair_a)) == {}  # every row as the chair holds it
    status = hub_status(chair_a, hub, origin=origin_of(chair_a))
    assert status.clock_offset_s is not None and 3 * 3600 < status.clock_offset_s < 3 * 3600 + 600
    said = subprocess.run([sys.executable, "main.py", "hub", "status", "--hub", hub, "--db", str(chair_a)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert said.returncode == 0
    assert "this chair's clock was 3 h 05 min behind the hub's at its last push" in said.stderr

    push_ended_sessions(chair_a, hub, origin=origin_of(chair_a))  # the clock set right
    right = subprocess.run([sys.executable, "main.py", "hub", "status", "--hub", hub, "--db", str(chair_a)],
                           cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert "clock" not in right.stderr
