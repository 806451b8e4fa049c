"""The whole technician flow without a mouse, and an accessible name on every
control a keyboard or a screen reader reaches."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from console.ui.chair.technician import TechnicianWorkspace
from devices.sim.process import SimulatorProcess
from tests.ui.drive import WAIT_MS, answer_checklist_with_keys, show, snapshot, wait_connected

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier


def focused(qtbot) -> QWidget:
    """The widget a person's key goes to, once the window (or the open dialog) is active."""

    def ready() -> bool:
        widget, modal = QApplication.focusWidget(), QApplication.activeModalWidget()
        return widget is not None and (modal is None or modal.isAncestorOf(widget))

    qtbot.waitUntil(ready, timeout=5000)
    return QApplication.focusWidget()


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focused(qtbot), key, modifier)


def type_text(qtbot, text: str) -> None:
    qtbot.keyClicks(focused(qtbot), text)


def unnamed_controls(root: QWidget) -> list[str]:
    """Visible widgets a keyboard can reach (or buttons) that have no accessible name."""
    out = []
    for widget in [root, *root.findChildren(QWidget)]:
        reachable = isinstance(widget, QAbstractButton) or widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        if not reachable or not widget.isVisible() or widget.objectName().startswith("qt_"):
            continue
        if not widget.accessibleName() and not (isinstance(widget, QAbstractButton) and widget.text()):
            parent = widget.parentWidget()
            out.append(f"{type(widget).__name__} in {type(parent).__name__ if parent else None}")
    return out


pytestmark = pytest.mark.slow


def test_the_whole_flow_by_keyboard_with_every_control_named(qtbot, itbs_clinic) -> None:
    clinic = itbs_clinic
    problems: dict[str, list[str]] = {}
    with SimulatorProcess("itbs", speed=25, seed=9, pose_hz=10) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)
        try:
            # Start of day: the search has the focus; type, Enter, Enter.
            assert QApplication.focusWidget() is ws.start_page.search
            type_text(qtbot, "alex")
            press(qtbot, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda: ws.start_page.plan is not None, timeout=5000)
            problems["start of day"] = unnamed_controls(ws.start_page)
            press(qtbot, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.checklist, timeout=5000)
            problems["checklist"] = unnamed_controls(ws.checklist)
            answer_checklist_with_keys(qtbot, ws)
            # Session: connect (Ctrl+D), start (F5).
            view = ws.session_view
            press(qtbot, Qt.Key.Key_D, CTRL)
            wait_connected(qtbot, ws)
            problems["session"] = unnamed_controls(view)
            press(qtbot, Qt.Key.Key_F5)
            qtbot.waitUntil(lambda: snapshot(ws).state == "running" and snapshot(ws).pulses_delivered > 30,
                            timeout=WAIT_MS)
            # Pause (F6) acts at once; then the reason list has the focus and nothing is chosen:
            # Enter leaves the reason "not given" (issue 20, items 1 and 4).
            press(qtbot, Qt.Key.Key_F6)
            qtbot.waitUntil(lambda: view.dialog is not None, timeout=5000)
            problems["pause dialog"] = unnamed_controls(view.dialog)
            press(qtbot, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda: snapshot(ws).device_state == "PAUSED", timeout=WAIT_MS)
            press(qtbot, Qt.Key.Key_F7)
            qtbot.waitUntil(lambda: snapshot(ws).state == "running", timeout=WAIT_MS)
            # A note (Ctrl+N, type, Ctrl+Enter) and a side effect (Alt+1, a rating, Enter).
            press(qtbot, Qt.Key.Key_N, CTRL)
            qtbot.waitUntil(lambda: view.dialog is not None, timeout=5000)
            problems["note dialog"] = unnamed_controls(view.dialog)
            type_text(qtbot, "Asked for a break after this session.")
            press(qtbot, Qt.Key.Key_Return, CTRL)
            qtbot.waitUntil(lambda: view.dialog is None, timeout=5000)
            press(qtbot, Qt.Key.Key_1, ALT)
            qtbot.waitUntil(lambda: view.dialog is not None, timeout=5000)
            problems["side effect dialog"] = unnamed_controls(view.dialog)
            type_text(qtbot, "2")
            press(qtbot, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda: view.dialog is None, timeout=5000)
            # The end: observations by Tab, then Ctrl+Enter to the note, Ctrl+Enter to the day's list.
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.end_page, timeout=WAIT_MS)
            end = ws.end_page
            problems["end of session"] = unnamed_controls(end)
            assert focused(qtbot) in (end.observations.mood, end.observations.mood.lineEdit())
            type_text(qtbot, "Tired")
            press(qtbot, Qt.Key.Key_Tab)
            type_text(qtbot, "It went quicker today.")
            press(qtbot, Qt.Key.Key_Return, CTRL)
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.note_page, timeout=10_000)
            problems["note"] = unnamed_controls(ws.note_page)
            session_id = end.session_id
            press(qtbot, Qt.Key.Key_Return, CTRL)
            qtbot.waitUntil(lambda: ws.currentWidget() is ws.start_page, timeout=5000)
        finally:
            ws.shutdown()
    assert {page: names for page, names in problems.items() if names} == {}
    rows = list(clinic.db.query(
        "SELECT kind, code, detail FROM session_events WHERE session_id = ? ORDER BY id", [session_id]))
    kinds = [r["kind"] for r in rows]
    for kind in ("checklist", "pause", "resume", "note", "side_effect", "observation"):
        assert kind in kinds, kinds
    side_effect = next(r for r in rows if r["kind"] == "side_effect")
    assert side_effect["code"] == "headache" and '"rating": 2' in side_effect["detail"]
    observation = next(r for r in rows if r["kind"] == "observation")
    assert '"mood": "Tired"' in observation["detail"]
    assert '"patient_said": "It went quicker today."' in observation["detail"]
    assert clinic.db["sessions"].get(session_id)["status"] == "completed"
