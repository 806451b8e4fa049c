"""Once the chair shuts down (log out, program closing) nothing of it reads the database again:
the program closes the database next, and a search typed a moment before used to fire its
timer on the closed store ("patient list failed: Cannot operate on a closed database")."""

from __future__ import annotations

import logging

import pytest

from console.ui.chair.technician import TechnicianWorkspace
from tests.ui.drive import show


def test_a_search_typed_just_before_the_chair_closes_reads_nothing_after(
    qtbot, clinic, caplog: pytest.LogCaptureFixture
) -> None:
    ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician)
    show(qtbot, ws)
    page = ws.start_page
    page.search.setText("P-10")  # starts the search's short debounce timer
    ws.shutdown("logged out")
    assert not page._debounce.isActive() and not page._clock.isActive()
    clinic.db.close()
    with caplog.at_level(logging.ERROR):
        qtbot.wait(3 * page._debounce.interval())  # long enough for a timer left running to fire
        page.refresh()
        page.refresh_card()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
