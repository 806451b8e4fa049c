"""The technician's and the supervisor's screens fit a 1280×720 display in height too
(issue 20, item 7) and use the room of a 1920×1080 one.

Real widgets offscreen, sized by the program's own rule (console.ui.widgets.screen_fit with
an explicit available geometry, as tests/ui/test_screen_fit.py does); the running session is
the real simulator on a pty driven through the chair. What "fits" means is in
tests/ui/fit_check.py: the window within the screen, every button whole, uncovered and as
large as its text, no field squashed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QLabel

from console.ui.main_window import MainWindow
from console.ui.widgets.screen_fit import PREFERRED, ScreenFitter, fit_to_screen
from console.ui.widgets.theme import apply_style
from devices.sim.process import SimulatorProcess
from tests.note.recorded import START, record_session
from tests.ui.drive import WAIT_MS, answer_checklist_with_keys, choose_patient, snapshot, to_running
from tests.ui.fit_check import SIZES, area_of, fit_problems, settle
from tests.ui.test_screen_fit import RECOVERY_NOTICE

URGENT = ("The device did not confirm the stop: stop the stimulator at its own panel now.")
"""The longest message the live view shows during a session (session_view._ask_reason)."""


def _screen(qapp: QApplication, size: str) -> Iterator[QRect]:
    rect = area_of(SIZES[size])
    fitter = ScreenFitter(qapp, available=rect)
    qapp.installEventFilter(fitter)
    apply_style(qapp)  # the clinic's fonts and padding are what must fit
    yield rect
    qapp.setStyleSheet("")
    qapp.removeEventFilter(fitter)
    fitter.deleteLater()


@pytest.fixture
def small(qapp: QApplication) -> Iterator[QRect]:
    yield from _screen(qapp, "1280x720")


@pytest.fixture
def large(qapp: QApplication) -> Iterator[QRect]:
    yield from _screen(qapp, "1920x1080")


def _open(qtbot, window: MainWindow, area: QRect) -> None:
    qtbot.addWidget(window)
    fit_to_screen(window, PREFERRED, area)
    window.show()
    qtbot.waitExposed(window)
    settle()


def _assert_fits(window, area: QRect, what: str) -> None:
    settle()
    problems = fit_problems(window, area)
    assert not problems, f"{what}:\n  " + "\n  ".join(problems)


def _whole(label: QLabel) -> bool:
    """A label shows all of its text: as high as its text needs (and as wide, unless it wraps)."""
    need = label.heightForWidth(label.width()) if label.wordWrap() else label.sizeHint().height()
    return label.height() >= need and (label.wordWrap() or label.width() >= label.sizeHint().width())


# ------------------------------------------------------------------------ the chair


@pytest.mark.slow
def test_a_running_session_fits_720_under_the_notice_with_a_message(qtbot, clinic, small: QRect) -> None:
    """Connected and running (the device panel shows what the device reports), the recovery
    notice still up, a side effect just recorded and the longest urgent message showing: every
    button whole and the big numbers readable, all on a 1280×720 screen."""
    with SimulatorProcess("10hz", speed=20, seed=7, pose_hz=10) as sim:
        window = MainWindow(clinic.db, clinic.path)
        window.show_notice(RECOVERY_NOTICE)
        _open(qtbot, window, small)
        try:
            window.set_user(clinic.technician)
            ws = window.chair
            ws.device_panel.set_url(sim.url)
            window.windowHandle().requestActivate()
            qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
            to_running(qtbot, ws)
            view = ws.session_view
            view.controls.side_effects["headache"].click()
            qtbot.waitUntil(lambda: view.dialog is not None, timeout=10_000)
            view.dialog.rating.setValue(2)
            view.dialog.buttons.accepted.emit()
            qtbot.waitUntil(lambda: view.notice.isVisible(), timeout=10_000)
            view.show_message(URGENT)
            qtbot.waitUntil(lambda: ws.device_panel.identity.text() != "–", timeout=WAIT_MS)
            assert window.notice_bar.isVisible() and snapshot(ws).state == "running"
            _assert_fits(window, small, "the running session at 1280×720")
            for tile in (view.numbers.intensity, view.numbers.pulses, view.numbers.train, view.numbers.time):
                for label in (tile.value, tile.sub):
                    assert _whole(label), f"{tile.accessibleName()}: {label.text()!r} is cut"
            for label in (view.message, view.notice, ws.device_panel.protocol, ws.device_panel.status):
                assert label.isVisible() and _whole(label), label.text()
            pulses = view.numbers.pulses.value  # room for the session's last count, not only today's
            assert pulses.width() >= pulses.fontMetrics().horizontalAdvance("3 000 / 3 000")
            for name in ("stop", "pause", "adverse"):
                button = getattr(view.controls, name)
                assert button.height() >= button.sizeHint().height(), f"{name} is smaller than its text"
        finally:
            window.shutdown()


def test_a_device_that_does_not_answer_is_said_within_720(qtbot, clinic, small: QRect, tmp_path) -> None:
    """Before the start, the recovery notice up and the device not found: the device's problem
    in plain words, Connect and every control whole, on a 1280×720 screen."""
    window = MainWindow(clinic.db, clinic.path)
    window.show_notice(RECOVERY_NOTICE)
    _open(qtbot, window, small)
    try:
        window.set_user(clinic.technician)
        ws = window.chair
        ws.device_panel.set_url(f"tscp+serial://{tmp_path / 'no-such-port'}")
        window.windowHandle().requestActivate()
        qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
        choose_patient(qtbot, ws, "P-1001")
        answer_checklist_with_keys(qtbot, ws)
        ws.device_panel.connect_button.click()
        problem = ws.device_panel.problem
        qtbot.waitUntil(lambda: problem.text.text() != "" and ws.device_panel.connect_button.isEnabled(),
                        timeout=WAIT_MS)
        _assert_fits(window, small, "the device's problem at 1280×720")
        assert problem.isVisible() and _whole(problem.text), problem.text.text()
        problem.toggle.click()  # the details unfolded too
        _assert_fits(window, small, "the device's problem and its details at 1280×720")
    finally:
        window.shutdown()


def test_the_live_screen_gives_a_large_screen_to_the_plots_and_the_target(qtbot, clinic,
                                                                          large: QRect) -> None:
    """Compacting for 720 px does not shrink a 1080 px screen: the plots and the target take
    the spare height."""
    window = MainWindow(clinic.db, clinic.path)
    _open(qtbot, window, large)
    try:
        window.set_user(clinic.technician)
        view = window.chair.session_view
        window.chair.setCurrentWidget(view)
        _assert_fits(window, large, "the live screen at 1920×1080")
        assert view.plots.height() >= view.plots.minimumSizeHint().height() + 150
        assert view.target.height() >= view.target.minimumSizeHint().height() + 150
    finally:
        window.shutdown()


# ------------------------------------------------------------------------ the supervisor's review


def _stopped_session(clinic) -> int:
    db = clinic.db
    course = db.execute("SELECT id FROM courses WHERE patient_id = ?", [clinic.patient.id]).fetchone()[0]
    record_session(db, clinic.patient.id, course, number=1, started=START + timedelta(days=1))
    return record_session(
        db, clinic.patient.id, course, number=2, started=START + timedelta(days=2), status="stopped",
        end_reason="Patient asked to stop: headache worse than last week, rated 8 of 10", delivered=120,
        events=[("side_effect", "headache", {"rating": 8, "note": "worse than last week"})])


def _review(qtbot, clinic, area: QRect):
    session = _stopped_session(clinic)
    window = MainWindow(clinic.db, clinic.path)
    _open(qtbot, window, area)
    window.set_user(clinic.supervisor)
    review = window.screens[0][1]
    review.filters.review.setCurrentIndex(review.filters.review.findData("all"))
    review.queue.select_session(session)
    settle(0.3)
    return window, review.detail


def test_the_review_plots_keep_their_height_at_720(qtbot, clinic, small: QRect) -> None:
    """The session's flags pushed the plots below their minimum: their strips were cut off.
    On a small screen the lines above them scroll instead."""
    window, detail = _review(qtbot, clinic, small)
    try:
        _assert_fits(window, small, "the supervisor's review at 1280×720")
        assert "Ended early" in detail.flags.text()
        assert detail.tabs.height() >= detail.tabs.minimumSizeHint().height()
        for plot in (detail.timeline, detail.scatter):
            assert plot.height() >= plot.minimumHeight() > 0, type(plot).__name__
            assert plot.visibleRegion().boundingRect().size() == plot.size(), f"{type(plot).__name__} is cut"
    finally:
        window.shutdown()


def test_the_review_shows_every_flag_without_scrolling_at_1080(qtbot, clinic, large: QRect) -> None:
    window, detail = _review(qtbot, clinic, large)
    try:
        _assert_fits(window, large, "the supervisor's review at 1920×1080")
        for line in (detail.subtitle, detail.signature, detail.flags):
            assert _whole(line), line.text()
            top = line.mapTo(detail, line.rect().topLeft()).y()
            assert top >= 0 and top + line.height() <= detail.tabs.geometry().top(), "a line is scrolled away"
        assert detail.timeline.height() >= 300
    finally:
        window.shutdown()
