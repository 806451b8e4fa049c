"""The shell: log in, then the workspace of the person's role; lock and log out."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import QLabel, QTabWidget

from console.session.snapshot import LiveSnapshot
from console.ui.chair.technician import TechnicianWorkspace
from console.ui.main_window import MainWindow
from tests.ui.fakes import FakeRunner


def log_in(qtbot, window: MainWindow, username: str, password: str) -> None:
    qtbot.waitUntil(lambda: window.login is not None and window.login.isVisible(), timeout=5000)
    dialog = window.login
    dialog.username.setText(username)
    dialog.password.setText(password)
    dialog.submit()
    qtbot.waitUntil(lambda: window.user is not None and window.user.username == username, timeout=5000)


def open_window(qtbot, clinic) -> MainWindow:
    window = MainWindow(clinic.db, clinic.path)
    qtbot.addWidget(window)
    window.show()
    window.start()
    return window


def test_a_technician_gets_the_chair(qtbot, clinic) -> None:
    window = open_window(qtbot, clinic)
    try:
        log_in(qtbot, window, "tina", "tina's long password")
        assert isinstance(window.workspace, TechnicianWorkspace)
        assert window.chair.currentWidget() is window.chair.start_page
        assert "Tina Tech (technician)" in window.who.text()
        assert window.chair.start_page.list.count() == 1  # today's list: the patient with an open course
    finally:
        window.shutdown()


def test_a_supervisor_gets_the_chair_and_the_patients(qtbot, clinic) -> None:
    window = open_window(qtbot, clinic)
    try:
        log_in(qtbot, window, "sam", "sam's long password")
        assert isinstance(window.workspace, QTabWidget)
        names = [window.workspace.tabText(i) for i in range(window.workspace.count())]
        assert names == ["Review", "Chair", "Patients"]
    finally:
        window.shutdown()


def test_an_admin_gets_no_chair(qtbot, clinic) -> None:
    window = open_window(qtbot, clinic)
    try:
        log_in(qtbot, window, "admin", "correct horse battery")
        assert window.chair is None
    finally:
        window.shutdown()


def test_locked_screen_shows_the_session_going_on_without_the_patient(qtbot, clinic) -> None:
    window = open_window(qtbot, clinic)
    try:
        log_in(qtbot, window, "tina", "tina's long password")
        chair = window.chair
        runner = FakeRunner(LiveSnapshot(session_id=1, state="running", device_connected=True,
                                         pulses_delivered=120, pulses_planned=3000))
        chair.runner = runner  # as after connecting: a session is open
        chair.session_view.set_context("P-1001 · AE · Session 1 of 36")
        chair.setCurrentWidget(chair.session_view)
        chair.session_view.attach(runner)
        window.lock_now()
        qtbot.waitUntil(window.lock.is_locked, timeout=5000)
        runner.update(pulses_delivered=121)
        chair.session_view.bridge.tick()
        cover = window.lock.covers()[0]
        assert cover.status.text() == "Session running: 121 of 3000 pulses"
        shown = [w.text() for w in window.findChildren(QLabel) if w.isVisible()]
        assert not any("P-1001" in text or "Alex" in text for text in shown)
        assert not window.close()  # a session is open: the window stays
        runner.update(state="ended", end_status="stopped", end_reason="test")
        chair.session_view.bridge.tick()
        chair.runner = None
    finally:
        window.shutdown()


def test_logging_out_asks_who_is_next(qtbot, clinic) -> None:
    window = open_window(qtbot, clinic)
    try:
        log_in(qtbot, window, "tina", "tina's long password")
        window.log_out()
        assert window.user is None and window.chair is None
        log_in(qtbot, window, "sam", "sam's long password")
        assert window.user.role == "supervisor"
    finally:
        window.shutdown()


def test_the_demo_window_says_it_is_a_demo(qtbot) -> None:
    window = MainWindow(demo=True)
    qtbot.addWidget(window)
    window.show()
    assert "DEMO" in window.windowTitle() and window.demo_mark.isVisible()
    dataclasses.replace(LiveSnapshot())  # the window needs no database to open
