"""Driving the technician's workspace the way a person does: helpers shared by the flow tests."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.ui.chair.technician import TechnicianWorkspace

WAIT_MS = 90_000


def show(qtbot, ws: TechnicianWorkspace) -> None:
    qtbot.addWidget(ws)
    ws.resize(1280, 800)
    ws.show()
    ws.windowHandle().requestActivate()  # offscreen windows are not activated by show()
    qtbot.waitUntil(ws.isActiveWindow, timeout=5000)


def choose_patient(qtbot, ws: TechnicianWorkspace, clinic_id: str) -> None:
    page = ws.start_page
    qtbot.keyClicks(page.search, clinic_id)
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.plan is not None and page.plan.patient.clinic_id == clinic_id, timeout=5000)
    assert page.card.begin.isEnabled(), page.card.blockers.text()
    qtbot.keyClick(page.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ws.currentWidget() is ws.checklist, timeout=5000)


def answer_checklist_with_keys(qtbot, ws: TechnicianWorkspace) -> None:
    """Y/N keys on the focused item; each answer moves the focus on."""
    checklist = ws.checklist
    for item in checklist.items:
        # "metal removed?" and "ear protection?" are answered yes; the others no.
        key = Qt.Key.Key_Y if "no" in item.note_on else Qt.Key.Key_N
        focused = QApplication.focusWidget()
        assert focused in (item.yes, item.no), (
            f"focus is on {focused.accessibleName() if focused else None!r}, not on item {item.item_id}"
        )
        qtbot.keyClick(focused, key)
    assert checklist.proceed.isEnabled(), checklist.status.text()
    assert QApplication.focusWidget() is checklist.proceed
    qtbot.keyClick(checklist.proceed, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ws.currentWidget() is ws.session_view, timeout=5000)


def wait_connected(qtbot, ws: TechnicianWorkspace) -> None:
    qtbot.waitUntil(lambda: ws.runner is not None, timeout=30_000)
    qtbot.waitUntil(lambda: ws.session_view.controls.start.isEnabled(), timeout=30_000)


def snapshot(ws: TechnicianWorkspace):
    return ws.session_view.bridge.last


def to_running(qtbot, ws: TechnicianWorkspace, clinic_id: str = "P-1001") -> None:
    """Patient, checklist, connect and start: the session runs."""
    choose_patient(qtbot, ws, clinic_id)
    answer_checklist_with_keys(qtbot, ws)
    ws.device_panel.connect_button.click()
    wait_connected(qtbot, ws)
    ws.session_view.controls.start.click()
    qtbot.waitUntil(lambda: snapshot(ws).state == "running", timeout=WAIT_MS)
