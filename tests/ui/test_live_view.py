"""The live view's parts against snapshots a test sets: what the technician
reads on the target view, the big numbers, the alarm band, the plots, and
what the controls do."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from console.session.snapshot import Alarm, LiveSnapshot, SeriesPoint
from console.ui.chair.alarms import AlarmBand
from console.ui.chair.live_bridge import LiveBridge
from console.ui.chair.live_plots import CHUNK, GrowingArray, LivePlots
from console.ui.chair.session_view import SessionView
from console.ui.chair.target_view import TargetView
from console.ui.widgets.big_numbers import BigNumbers
from tests.ui.fakes import FakeRunner

RUNNING = LiveSnapshot(
    session_id=7, state="running", device_connected=True, device_state="RUNNING",
    device_label="Acme Neuro SIM-1 SN0001", protocol_name="10 Hz rTMS left DLPFC",
    pulses_delivered=1360, pulses_recorded=1360, pulses_planned=3000, train=34, trains_planned=75,
    mso=62, prescribed_mso=62, mt_mso=52.0, percent_mt=119.2, elapsed_s=1000.0, remaining_s=1224.0,
    pose_visible=True, offset_x_mm=0.8, offset_y_mm=-0.5, depth_mm=0.3, distance_mm=1.0, angle_deg=0.9,
    zone="on", on_target_share=0.97,
)


def test_big_numbers_read_the_session(qtbot) -> None:
    numbers = BigNumbers()
    qtbot.addWidget(numbers)
    numbers.show_snapshot(RUNNING)
    assert numbers.intensity.value.text() == "62 % MSO"
    assert "119 % MT" in numbers.intensity.sub.text()
    assert numbers.pulses.value.text() == "1 360 / 3 000"
    assert numbers.train.value.text() == "34 / 75"
    assert numbers.time.value.text() == "16:40"
    assert numbers.time.sub.text() == "remaining 20:24"
    assert numbers.progress.format() == "45 %"


def test_big_numbers_say_when_the_intensity_is_not_the_prescription(qtbot) -> None:
    numbers = BigNumbers()
    qtbot.addWidget(numbers)
    import dataclasses

    numbers.show_snapshot(dataclasses.replace(RUNNING, mso=58))
    assert "≠ prescribed 62" in numbers.intensity.sub.text()
    assert numbers.intensity.sub.objectName() == "warning"


@pytest.mark.parametrize(
    ("zone", "visible", "word"),
    [("on", True, "On target"), ("off", True, "Off target"),
     ("none", False, "Coil not visible")],
)
def test_target_view_names_the_zone(qtbot, zone: str, visible: bool, word: str) -> None:
    import dataclasses

    view = TargetView()
    qtbot.addWidget(view)
    snap = dataclasses.replace(RUNNING, zone=zone, pose_visible=visible,
                               offset_x_mm=4.0 if visible else None, offset_y_mm=1.0 if visible else None,
                               distance_mm=4.1 if visible else None)
    view.show_snapshot(snap)
    assert view.zone_word.text() == word
    assert view.distance.text() == ("4.1 mm" if visible else "–")
    view.resize(360, 480)
    assert not view.grab().isNull()  # paints in every zone, the arrow beyond the field included


def test_alarm_band_shows_the_most_serious_alarm_and_mutes_until_a_new_one(qtbot) -> None:
    import dataclasses

    band = AlarmBand()
    qtbot.addWidget(band)
    band.show_snapshot(RUNNING)
    assert band.property("level") == "ok" and band.headline.text() == "Recording"
    off = Alarm("off_target", "The coil is 7.2 mm from the target.", 1.0)
    band.show_snapshot(dataclasses.replace(RUNNING, alarms=(off,)))
    assert band.headline.text() == "Coil off target"
    assert band.property("level") == "alarm"
    assert band.sound.played == 1 and band.sound.audible
    band.mute()
    assert not band.sound.audible and not band.mute_button.isEnabled()
    lost = Alarm("device_lost", "", 2.0)
    band.show_snapshot(dataclasses.replace(RUNNING, alarms=(off, lost), device_connected=False))
    assert band.headline.text() == "Device connection lost"
    assert "recording resumes" in band.detail.text().lower()
    assert "Also: Coil off target" in band.detail.text()
    assert band.sound.played == 2 and band.sound.audible  # the new alarm sounds despite the mute
    band.show_snapshot(RUNNING)
    assert band.kinds == () and not band.sound.audible and band.property("level") == "ok"


def test_device_lost_shows_even_before_the_runner_raises_it(qtbot) -> None:
    import dataclasses

    band = AlarmBand()
    qtbot.addWidget(band)
    band.show_snapshot(dataclasses.replace(RUNNING, device_connected=False))
    assert band.headline.text() == "Device connection lost"


def test_growing_array_doubles_and_keeps_every_value() -> None:
    array = GrowingArray(4)
    for i in range(100):
        array.extend([float(i)])
    assert array.size == 100
    assert np.array_equal(array.view(), np.arange(100, dtype=float))


def _session_points(seconds: float, hz: float = 30.0, start: float = 0.0) -> list[SeriesPoint]:
    points = []
    for i in range(int(seconds * hz)):
        t = start + i / hz
        pulse = ((t - start) % 30.0) < 4.0 and i % 3 == 0
        points.append(SeriesPoint(t, 1.0 + 0.2 * np.sin(i / 7.0), 62, pulse))
    return points


def test_plots_freeze_full_chunks_and_redraw_only_the_tail(qtbot) -> None:
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.set_session_frame(2224.0, 3.0, 62)
    points = _session_points(600)
    plots.append(points)
    curve = plots.distance_curve
    assert len(curve.items) == len(points) // CHUNK + 1
    shown = sum(len(item.xData) for item in curve.items)
    assert shown == len(points) + len(curve.items) - 1  # one shared point joins two chunks
    frozen = curve.items[:-1]
    before = [id(item.xData) for item in frozen]
    plots.append(_session_points(1, start=600.0)[:5])
    assert [id(item.xData) for item in curve.items[: len(frozen)]] == before  # untouched
    # The pulse marks break between trains (NaN in y only; x stays sorted for clip-to-view).
    y = plots.buffers.pulse_distance.view()
    x = plots.buffers.pulse_t.view()
    assert np.isnan(y).sum() == 600 // 30  # 19 breaks in the first 20 trains, 1 before the 21st
    assert np.all(np.diff(x) >= 0)


def test_plots_axes_grow_in_steps_when_the_data_leaves_them(qtbot) -> None:
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.show()
    plots.set_session_frame(120.0, 3.0, 62)
    plots.append([SeriesPoint(10.0, 25.0, 80, True), SeriesPoint(300.0, 2.0, 62, False)])
    view = plots.distance_plot.getViewBox()
    qtbot.waitUntil(lambda: view.viewRange()[1][1] >= 25.0 and view.viewRange()[0][1] >= 5.0, timeout=5000)
    qtbot.waitUntil(lambda: plots.intensity_plot.getViewBox().viewRange()[1][1] >= 80, timeout=5000)


def test_bridge_coalesces_into_one_signal_per_tick(qtbot) -> None:
    runner = FakeRunner(RUNNING)
    bridge = LiveBridge()
    received: list = []
    bridge.updated.connect(lambda snap, points: received.append((snap, list(points))))
    bridge.attach(runner)
    try:
        runner.series.extend(_session_points(2))
        bridge.tick()
        assert len(received) == 1 and len(received[0][1]) == 60
        bridge.tick()
        assert len(received) == 1  # nothing changed: nothing sent
        runner.series.extend(_session_points(1, start=2.0))
        runner.update(pulses_delivered=1361)
        bridge.tick()
        assert len(received) == 2 and len(received[1][1]) == 30
        assert received[1][0].pulses_delivered == 1361
    finally:
        bridge.detach()


def _open_dialog(view: SessionView):
    assert view.dialog is not None, "a dialog should be open"
    return view.dialog


def test_session_controls_act_on_the_runner_with_reasons(qtbot) -> None:
    view = SessionView()
    qtbot.addWidget(view)
    view.by = "tech1"
    view.show()
    view.prepare(planned_s=2224.0, tol_mm=3.0, prescribed_mso=62)
    runner = FakeRunner(RUNNING)
    view.attach(runner)
    try:
        assert view.controls.pause.isEnabled() and not view.controls.resume.isEnabled()
        qtbot.mouseClick(view.controls.pause, Qt.MouseButton.LeftButton)
        assert runner.calls[-1] == ("pause", (None,), {"by": "tech1"})  # paused at the click, then asked why
        dialog = _open_dialog(view)
        dialog.choice.setCurrentText("Other")
        dialog.buttons.accepted.emit()
        assert "type the reason" in dialog.error.text().lower()  # "Other" needs words
        dialog.details.setText("patient sneezing")
        dialog.buttons.accepted.emit()
        assert runner.calls[-1] == ("give_reason", ("pause", "patient sneezing"), {"by": "tech1"})
        view.bridge.tick()
        assert view.controls.resume.isEnabled() and view.band.headline.text() == "Paused"
        qtbot.mouseClick(view.controls.resume, Qt.MouseButton.LeftButton)
        assert runner.names()[-1] == "resume"
        view.controls.side_effects["headache"].click()
        dialog = _open_dialog(view)
        dialog.rating.setValue(4)
        dialog.note.setText("mild, left side")
        dialog.buttons.accepted.emit()
        assert runner.calls[-1] == ("add_side_effect", ("headache", 4, "mild, left side"), {"by": "tech1"})
        view.controls.note.click()
        dialog = _open_dialog(view)
        dialog.text.setPlainText("Patient chatted about the weekend.")
        dialog.buttons.accepted.emit()
        assert runner.calls[-1][0:2] == ("add_note", ("Patient chatted about the weekend.",))
        ended: list = []
        view.ended.connect(ended.append)
        view.controls.stop.click()
        assert runner.names()[-1] == "stop"  # stopped at the click, then asked why
        dialog = _open_dialog(view)
        dialog.choice.setCurrentIndex(0)
        dialog.buttons.accepted.emit()
        assert runner.calls[-1] == ("give_reason", ("stopped", "Patient asked to stop"), {"by": "tech1"})
        view.bridge.tick()
        assert len(ended) == 1 and ended[0].end_status == "stopped"
    finally:
        view.detach()


def test_a_refused_action_is_a_message_not_a_traceback(qtbot) -> None:
    view = SessionView()
    qtbot.addWidget(view)
    runner = FakeRunner(RUNNING)

    def refuse(*args, **kwargs):
        raise ValueError("cannot resume a session that is running")

    runner.resume = refuse
    view.attach(runner)
    try:
        view.resume()
        assert "Could not resume: cannot resume a session that is running" in view.message.text()
    finally:
        view.detach()


def test_the_band_says_why_it_is_paused_now_not_why_it_was_paused_before(qtbot) -> None:
    """The console's reason while its pause lasts; after a resume, a pause at the device's
    own panel shows the device's words, never the technician's earlier reason."""
    view = SessionView()
    qtbot.addWidget(view)
    view.by = "tech1"
    runner = FakeRunner(RUNNING)
    view.attach(runner)
    try:
        view.pause("patient sneezing")
        assert view.band.detail.text() == "patient sneezing. Resume when ready (F7)."
        view.resume()
        runner.update(state="paused", pause_reason="Paused at the device")  # the device's own pause
        view.bridge.tick()
        assert view.band.headline.text() == "Paused"
        assert view.band.detail.text() == "Paused at the device. Resume when ready (F7)."
        runner.update(pause_reason=None)  # a pause nobody explained: no stale reason either
        view.bridge.tick()
        assert view.band.detail.text() == "Resume when ready (F7)."
    finally:
        view.detach()


@pytest.mark.parametrize("field", ["storage_error"])  # a command error is worded plainly: test_chair_words
def test_a_storage_or_command_problem_in_the_snapshot_is_shown(qtbot, field: str) -> None:
    view = SessionView()
    qtbot.addWidget(view)
    runner = FakeRunner(RUNNING)
    view.attach(runner)
    try:
        runner.update(**{field: "Saving to the database failed: disk full"})
        view.bridge.tick()
        assert view.storage.text() == "Saving to the database failed: disk full"  # its own banner
    finally:
        view.detach()


def test_every_control_has_an_accessible_name(qtbot) -> None:
    view = SessionView()
    qtbot.addWidget(view)
    view.show()
    for widget in view.findChildren(QWidget):
        if isinstance(widget, QAbstractButton) or widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
            if not widget.isVisibleTo(view) or widget.objectName().startswith("qt_"):
                continue
            assert widget.accessibleName(), f"{type(widget).__name__} {widget.objectName()!r} has no name"
    QApplication.processEvents()
