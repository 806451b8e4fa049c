"""The review station's "All chairs" tab against a real hub: ``python -m tests.hub.screenshots [OUT_DIR]``.

Two demo chairs (named Room 1 at Northside and Room 7 at Harbour, by their admin's settings) push to a
fresh database on the PostgreSQL server the tests use; a supervisor logs in at the first one, which is
also the review station. Offscreen, at 1280x720; writes hub_all_chairs.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import psycopg
from PySide6.QtWidgets import QApplication, QTabWidget

from console.clinic.settings import set_setting
from console.demo import PATIENTS, build_demo_database
from console.people.login import authenticate
from console.people.user import get_user
from console.ui.main_window import MainWindow
from console.ui.widgets.theme import apply_style
from db.database import open_database
from db.hub import schema
from db.hub.push import chair_origin, open_chair, push_ended_sessions

ADMIN_URL = os.environ.get("TMS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _chair(path: Path, patients: tuple, name: str, site: str, hub: str) -> Path:
    build_demo_database(path, patients=patients)
    db = open_database(path)
    try:
        admin = get_user(db, "admin")
        for key, value in (("chair_name", name), ("site", site), ("hub_url", hub)):
            set_setting(db, key, value, admin)
    finally:
        db.close()
    with open_chair(path) as raw:
        origin = chair_origin(raw)
    assert origin
    push_ended_sessions(path, hub, origin=origin)
    return path


def main(out: Path) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    dbname = f"shots_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {dbname}".encode())
    hub = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=dbname)
    try:
        with psycopg.connect(hub, autocommit=True) as conn:
            schema.init(conn)
        with tempfile.TemporaryDirectory() as tmp:
            station = _chair(Path(tmp) / "room1.db", PATIENTS, "Room 1", "Northside", hub)
            _chair(Path(tmp) / "room7.db", PATIENTS[2:], "Room 7", "Harbour", hub)
            db = open_database(station)
            window = MainWindow(db, station)
            window.resize(1280, 720)
            window.show()
            window.set_user(authenticate(db, "supervisor", "demo-supervisor"))
            tabs = window.workspace
            assert isinstance(tabs, QTabWidget)
            tabs.setCurrentIndex([tabs.tabText(i) for i in range(tabs.count())].index("All chairs"))
            page = tabs.currentWidget()
            deadline = time.monotonic() + 60
            while page.model.listed is None or page.chair.count() < 3:
                if time.monotonic() > deadline:
                    raise TimeoutError(page.state.text())
                app.processEvents()
                time.sleep(0.01)
            page.table.selectRow(0)
            for _ in range(30):
                app.processEvents()
                time.sleep(0.01)
            out.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(out / "hub_all_chairs.png"))
            window.shutdown()
            db.close()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)".encode())
    print(out / "hub_all_chairs.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")))
