"""Issue 18: the chair pushes to the clinic's hub in the background and says so in its title bar;
with the hub out of reach it records on and says since when, and catches up once it is back.

A real PostgreSQL database per test (the server the project's machines run), a real chair file
recorded the real way (the demo's path, one patient), real widgets offscreen."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

from console.clinic.settings import set_setting  # noqa: E402
from console.demo import PATIENTS, build_demo_database  # noqa: E402
from console.people.user import get_user  # noqa: E402
from console.sync.hub_sync import HubSync  # noqa: E402
from db.database import open_database  # noqa: E402
from db.hub import schema  # noqa: E402

ADMIN_URL = os.environ.get("TMS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NOWHERE = "postgresql://postgres@127.0.0.1:1/tms?connect_timeout=2"


@pytest.fixture
def hub() -> Iterator[str]:
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"HUB SYNC TESTS NOT RUN: no PostgreSQL server at {ADMIN_URL} ({exc})")
    name = f"synctest_{uuid.uuid4().hex[:16]}"
    with admin:
        admin.execute(f"CREATE DATABASE {name}".encode())
    url = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=name)
    with psycopg.connect(url, autocommit=True) as conn:
        schema.init(conn)
    try:
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


@pytest.fixture
def chair(tmp_path: Path) -> Path:
    carter = next(p for p in PATIENTS if p.clinic_id == "MRN-1002")  # three short iTBS sessions
    path = tmp_path / "chair.db"
    build_demo_database(path, patients=(carter,))
    return path


def _set_hub(chair: Path, url: str) -> None:
    db = open_database(chair)
    try:
        set_setting(db, "hub_url", url, get_user(db, "admin"))
    finally:
        db.close()


def test_out_of_reach_it_says_since_when_and_catches_up_when_back(chair: Path, hub: str) -> None:
    sync = HubSync(chair)
    sync.push_once()
    assert not sync.status().configured and sync.status().words() == ""  # no hub: nothing said

    _set_hub(chair, NOWHERE)
    sync.push_once()  # never raises: the chair records on
    state = sync.status()
    assert state.configured and state.problem and state.problem_since is not None
    assert "out of reach since" in state.words() and "kept here" in state.words()
    first_since = state.problem_since
    sync.push_once()
    assert sync.status().problem_since == first_since  # since the first failure, not the latest

    _set_hub(chair, hub)
    sync.push_once()
    state = sync.status()
    assert state.problem is None and state.last_ok_at is not None and state.sessions_pushed == 3
    assert state.words().startswith("Hub: sent ")
    with psycopg.connect(hub) as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 3
    sync.push_once()
    assert sync.status().sessions_pushed == 0  # nothing twice


def test_the_window_shows_the_hub_and_pushes_in_the_background(qtbot, chair: Path, hub: str) -> None:
    from console.ui.main_window import MainWindow

    _set_hub(chair, hub)
    db = open_database(chair)
    window = MainWindow(db, chair)
    qtbot.addWidget(window)
    try:
        assert window.hub is not None
        qtbot.waitUntil(lambda: window.hub_state.text().startswith("Hub: sent "), timeout=60_000)
        assert hub not in window.hub_state.text() + window.hub_state.toolTip()  # the address is a secret
        with psycopg.connect(hub) as conn:
            assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 3
        # A session ending at the chair pushes at once, not at the next interval (a minute away).
        first = window.hub.status().last_ok_at
        window._session_closed()
        qtbot.waitUntil(lambda: window.hub.status().last_ok_at != first, timeout=60_000)
    finally:
        window.shutdown()
        db.close()
