"""The review station's "All chairs" list, read from a real hub off the window's thread: every chair's
unsigned sessions, the chair and site filters, and a sign-off made there (a wrong password first)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from PySide6.QtWidgets import QApplication

from console.people.login import authenticate
from console.review.flags import flag_config
from db.database import open_database
from db.hub.push import push_ended_sessions
from tests.hub.conftest import copy_db, origin_of

pytestmark = pytest.mark.slow
WAIT_MS = 60_000




def _unsigned_at_hub(hub: str, origin: str | None = None) -> int:
    with psycopg.connect(hub) as conn:
        return int(conn.execute(
            "SELECT count(*) FROM sessions s WHERE (%(o)s::text IS NULL OR s.origin = %(o)s) "
            "AND NOT EXISTS (SELECT 1 FROM signatures g WHERE g.session_uuid = s.uuid "
            "AND g.addendum_id IS NULL) "
            "AND NOT EXISTS (SELECT 1 FROM hub_signoffs h WHERE h.session_uuid = s.uuid)",
            {"o": origin}).fetchone()[0])


def test_all_chairs_filters_and_a_sign_off_at_the_station(qtbot, chair_a: Path, chair_b: Path, hub: str,
                                                          tmp_path: Path) -> None:
    from console.ui.review.hub_review import HubReviewPage, hub_cell_text

    for chair in (chair_a, chair_b):
        push_ended_sessions(chair, hub, origin=origin_of(chair))
    with psycopg.connect(hub, autocommit=True) as conn:
        for chair, name, site in ((chair_a, "Room 1", "Northside"), (chair_b, "Room 7", "Harbour")):
            conn.execute("UPDATE chairs SET name = %s, site = %s WHERE origin = %s",
                         (name, site, origin_of(chair)))
    station_path = copy_db(chair_a, tmp_path / "station.db")  # a supervisor's own computer, its accounts
    station = open_database(station_path)
    user = authenticate(station, "supervisor", "demo-supervisor")
    page = HubReviewPage(hub, station_path, "station-1", user, flag_config(station))
    qtbot.addWidget(page)
    page.resize(1280, 700)
    page.show()
    try:
        qtbot.waitUntil(lambda: "Reading" not in page.state.text(), timeout=WAIT_MS)
        assert page.model.listed is not None, page.state.text()
        assert page.model.rowCount() == _unsigned_at_hub(hub) > 0
        qtbot.waitUntil(lambda: page.chair.count() == 3 and page.site.count() == 3, timeout=WAIT_MS)
        assert [page.chair.itemText(i) for i in range(3)] == ["All chairs", "Room 1", "Room 7"]

        with qtbot.waitSignal(page.list_shown, timeout=WAIT_MS):
            page.site.setCurrentIndex(page.site.findText("Harbour"))
        assert page.model.rowCount() == _unsigned_at_hub(hub, origin_of(chair_b)) > 0
        shown = {hub_cell_text(page.model.row_at(r), "chair") for r in range(page.model.rowCount())}
        assert shown == {"Room 7"}

        page.table.selectRow(0)
        chosen = page.chosen_row()
        assert chosen is not None and page.sign.isEnabled()
        page.open_sign_off()
        dialog = next(w for w in QApplication.topLevelWidgets() if w.windowTitle() == "Sign off session"
                      and w.isVisible())
        dialog.password.setText("not-my-password")
        dialog.ok.click()
        qtbot.waitUntil(lambda: dialog.ok.isEnabled() and dialog.error.text() != "Signing …", timeout=WAIT_MS)
        assert "password" in dialog.error.text().lower() and dialog.isVisible()
        with psycopg.connect(hub) as conn:
            assert conn.execute("SELECT count(*) FROM hub_signoffs").fetchone()[0] == 0

        dialog.password.setText("demo-supervisor")
        with qtbot.waitSignal(page.list_shown, timeout=WAIT_MS):
            dialog.ok.click()
        assert not dialog.isVisible()
        with psycopg.connect(hub) as conn:
            signed = conn.execute("SELECT session_uuid, signer_username, station FROM hub_signoffs")
            signed = signed.fetchall()
        assert signed == [(chosen.uuid, "supervisor", "station-1")]
        assert page.model.rowCount() == _unsigned_at_hub(hub, origin_of(chair_b))
        assert chosen.uuid not in page.model.listed.uuids
        assert page.chosen.text().startswith(f"Signed off (reviewed): {chosen.clinic_id}")
        assert "at Room 7" in page.chosen.text() and "the chairs at Harbour" in page.state.text()
    finally:
        page.shutdown()
        station.close()


def test_a_hub_out_of_reach_is_one_line_and_the_window_goes_on(qtbot, chair_a: Path, tmp_path: Path) -> None:
    from console.ui.review.hub_review import HubReviewPage

    station = open_database(chair_a)
    user = authenticate(station, "supervisor", "demo-supervisor")
    page = HubReviewPage("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2", chair_a, "s", user,
                         flag_config(station))
    qtbot.addWidget(page)
    try:
        assert page.state.text() == "Reading the hub …"  # asked, not waited for
        qtbot.waitUntil(lambda: "cannot be reached" in page.state.text(), timeout=WAIT_MS)
        assert page.model.rowCount() == 0 and not page.sign.isEnabled()
    finally:
        page.shutdown()
        station.close()


def test_those_who_review_get_all_chairs_when_the_chair_has_a_hub_and_technicians_do_not(
        qtbot, chair_a: Path, hub: str) -> None:
    from PySide6.QtWidgets import QTabWidget

    from console.clinic.settings import set_setting
    from console.people.user import get_user
    from console.ui.main_window import MainWindow

    db = open_database(chair_a)
    window = MainWindow(db, chair_a)
    qtbot.addWidget(window)
    try:
        def tabs() -> list[str]:
            workspace = window.workspace
            if not isinstance(workspace, QTabWidget):
                return []
            return [workspace.tabText(i) for i in range(workspace.count())]

        window.set_user(authenticate(db, "supervisor", "demo-supervisor"))
        assert "All chairs" not in tabs()  # a lone chair: nothing of a hub
        set_setting(db, "hub_url", hub, get_user(db, "admin"))
        window.set_user(authenticate(db, "supervisor", "demo-supervisor"))
        assert tabs()[:3] == ["Review", "All chairs", "Chair"]
        window.set_user(authenticate(db, "physician", "demo-physician"))
        assert "All chairs" in tabs()
        window.set_user(authenticate(db, "technician", "demo-technician"))
        assert "All chairs" not in tabs()
    finally:
        window.shutdown()
        db.close()
