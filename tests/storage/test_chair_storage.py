"""The chair shows a storage fault at once, in its own banner, and says when saving works again:
a real runner, writer and SQLite file that may not grow (``PRAGMA max_page_count``), a real view."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from console.session.runner import SessionRunner
from console.ui.chair.session_view import SessionView
from db.database import open_database
from tests.engine.capture import write_run
from tests.engine.test_runner import new_patient

from .test_disk_full import GatedReplay


def test_the_chair_shows_a_full_disk_and_then_that_saving_works_again(qtbot, tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    open_database(db_path).close()
    _, plan = new_patient(db_path)
    db = open_database(db_path)
    db.execute("CREATE TABLE ballast (b BLOB)")
    db.execute("INSERT INTO ballast VALUES (zeroblob(4000000))")
    db.close()
    adapter = GatedReplay(write_run(tmp_path / "itbs.tscp", end=None))
    runner = SessionRunner(db_path, adapter, plan)
    view = SessionView()
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    try:
        runner.open()
        view.attach(runner)
        writer = runner._writer
        assert writer is not None
        pages = writer.call(lambda d: d.execute("PRAGMA page_count").fetchone()[0]).result(10)
        writer.call(lambda d: d.execute(f"PRAGMA max_page_count = {pages}")).result(10)
        assert not view.storage.isVisible()
        adapter.gate.set()
        qtbot.waitUntil(view.storage.isVisible, timeout=20000)
        assert view.storage.text().startswith("Saving to the database is failing (the disk is full).")
        assert view.storage.objectName() == "error" and view.storage.width() > 1000  # full width, red
        view.grab().save(str(tmp_path / "chair_storage.png"))
        qtbot.waitUntil(lambda: runner.saving_at_end, timeout=20000)
        free = sqlite3.connect(db_path)
        free.execute("DELETE FROM ballast")  # space returns
        free.commit()
        free.close()
        qtbot.waitUntil(lambda: not view.storage.isVisible(), timeout=30000)
        assert view.message.text() == "Saving to the database works again: what was kept in memory is saved."
        assert runner.wait_until_ended(30)
    finally:
        view.detach()
        runner.close()
    assert runner.lost_rows == {}
