"""Where the coil is: one rule and one colour everywhere (issue 20, item 12), and a course
without a tracked target says so plainly (item 10).

A coil 1.5 tolerances from the target is off target for the alarm, so the coil panel,
the live plot and the review plot must say and colour it the same way; a course placed
by the 5.5 cm rule (no target pose) is "not tracked", not "coil not visible".
"""

from __future__ import annotations

import dataclasses

from PySide6.QtGui import QColor

from console.session.snapshot import SeriesPoint
from console.ui.chair.alarms import AlarmBand
from console.ui.chair.live_plots import LivePlots
from console.ui.chair.session_view import SessionView
from console.ui.chair.target_view import TargetView
from console.ui.review.review_plots import SCREEN
from console.ui.widgets import theme
from tests.engine.feed import Feed
from tests.ui.fakes import FakeRunner


def _drifted_recorder() -> Feed:
    """A run whose coil sits 4.5 mm off a 3 mm tolerance (1.5 tolerances) for two seconds."""
    feed = Feed(prescribed_mso=62, tol_distance_mm=3.0, tol_angle_deg=3.0)
    feed.status("RUNNING")
    feed.train(1, "START", 0)
    for count in range(1, 21):
        feed.pose(dx=4.5)
        feed.pulse(count)
        feed.wait(100)
    feed.pose(dx=4.5)
    return feed


def _colour(label) -> str:
    """The colour a label's style sheet gives its text."""
    sheet = label.styleSheet()
    return QColor(sheet.split("color:")[1].strip(" ;")).name()


def test_a_coil_off_target_is_off_target_everywhere_in_one_colour(qtbot) -> None:
    feed = _drifted_recorder()
    snap = feed.rec.snapshot()
    assert ("alarm", "off_target") in feed.kinds("alarm")  # the alarm's rule says: off target
    assert all(p["on_target"] == 0 for p in feed.pulses)  # so does each pulse's record
    assert snap.zone == "off"  # and the coil panel's zone, by the same rule

    band = AlarmBand()
    qtbot.addWidget(band)
    band.show_snapshot(snap)
    assert band.headline.text() == "Coil off target" and band.property("level") == "alarm"

    target = TargetView()
    qtbot.addWidget(target)
    target.show_snapshot(snap)
    assert target.zone_word.text() == "Off target"
    assert _colour(target.zone_word) == QColor(theme.OFF).name()

    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.append(list(feed.rec.series))
    dots = [i for i in plots.pulse_off_dots.items if i.yData is not None and len(i.yData)]
    assert dots and len(dots[-1].yData) == 20, "every off-target pulse is drawn as an off-target dot"
    brush = dots[0].opts["symbolBrush"]
    assert QColor(brush if isinstance(brush, str) else brush.color()).name() == QColor(theme.OFF).name()
    line = plots.pulse_off_curve.items[-1]
    assert QColor(line.opts["pen"].color()).name() == QColor(theme.OFF).name()
    plots.resize(600, 400)
    plots.show()
    plots.grab()  # painted without a warning
    on_y = plots.pulse_distance_curve.items[-1].yData
    assert on_y is None or all(y != y for y in on_y)  # none of them drawn as on target
    assert QColor(SCREEN.off).name() == QColor(theme.OFF).name()  # the review plot's off colour


def test_on_target_pulses_stay_in_the_on_target_colour(qtbot) -> None:
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.append([SeriesPoint(1.0, 1.0, 62, True, True), SeriesPoint(1.1, 1.2, 62, True, True)])
    assert QColor(plots.pulse_distance_curve.items[-1].opts["pen"].color()).name() == QColor(theme.ON).name()
    assert all(i.yData is None or all(y != y for y in i.yData) for i in plots.pulse_off_curve.items)
    assert plots.buffers.off_t.size == 0


def test_a_course_without_a_tracked_target_says_so_plainly(qtbot) -> None:
    feed = Feed(target=None, prescribed_mso=62)
    feed.status("RUNNING")
    feed.pose(dx=1.0)
    snap = feed.rec.snapshot()
    assert snap.target_tracked is False
    view = SessionView()
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()
    runner = FakeRunner(dataclasses.replace(snap, session_id=1, device_connected=True))
    view.attach(runner)
    try:
        assert view.target.zone_word.text() == "Coil position not tracked for this course"
        assert "not visible" not in view.target.zone_word.text()
    finally:
        view.detach()
    ready = dataclasses.replace(snap, state="ready")
    band = AlarmBand()
    qtbot.addWidget(band)
    band.show_snapshot(ready)
    assert "not tracked" in band.detail.text() and "check the coil" not in band.detail.text()


def test_the_intensity_plot_keeps_every_pulse_beside_the_off_target_ones(qtbot) -> None:
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.append([SeriesPoint(1.0, 1.0, 62, True, True), SeriesPoint(1.1, 4.5, 62, True, False)])
    plots.append([SeriesPoint(1.2, 1.0, 61, True, True)])
    b = plots.buffers
    assert b.pulse_t.size == b.pulse_mso.size == b.pulse_distance.size == b.pulse_off_distance.size == 3


def test_the_ready_band_asks_only_for_what_is_left_to_do(qtbot) -> None:
    """Seen in a real window: with the device connected and armed, the band still said
    "connect the device (Ctrl+D)"."""
    feed = Feed(prescribed_mso=62)
    ready = dataclasses.replace(feed.rec.snapshot(), state="ready")
    band = AlarmBand()
    qtbot.addWidget(band)
    band.show_snapshot(dataclasses.replace(ready, device_connected=False))
    assert "connect the device (Ctrl+D)" in band.detail.text()
    band.show_snapshot(dataclasses.replace(ready, device_connected=True, protocol_confirmed=True))
    assert "connect the device" not in band.detail.text()
    assert "check the coil, then start (F5)" in band.detail.text()
