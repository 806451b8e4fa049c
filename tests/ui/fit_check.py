"""What "fits the screen" means, checked on real widgets: shared by tests/ui/test_screen_fit.py and
the screenshot script tests/ui/screen_sizes.py.

A window fits when, on a screen whose available geometry is ``area``:
- the window lies within ``area`` (it did not grow past it for a long message or a wide table);
- every visible button lies within the window, is as large as its text needs, and is not cut
  off by a parent or covered by a sibling (buttons in a scrolled list are left out: scrolling
  to them is what a list is for);
- no text field, list box or number field is squashed below a line of its text.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QWidget,
)

SIZES: dict[str, QSize] = {"1280x720": QSize(1280, 720), "1920x1080": QSize(1920, 1080)}


def area_of(size: QSize) -> QRect:
    return QRect(QPoint(0, 0), size)


def settle(seconds: float = 0.15) -> None:
    """Let layouts and deferred resizes run (no assertion depends on how long this takes)."""
    end = time.monotonic() + seconds
    while True:
        QApplication.processEvents()
        if time.monotonic() >= end:
            return
        time.sleep(0.01)


def _name(widget: QWidget) -> str:
    text = widget.text() if hasattr(widget, "text") and callable(widget.text) else ""
    return f"{type(widget).__name__} {widget.accessibleName() or text!r}".replace("\n", " ")


def _in_scrolled_content(widget: QWidget, window: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def fit_problems(window: QWidget, area: QRect, *, width_only: bool = False) -> list[str]:
    """Every way ``window`` does not fit ``area``, in words (empty when it fits).

    ``width_only`` leaves heights out (what is checked then is that nothing widens the window,
    that every button lies within it and is as wide as its text): for a screen whose height is
    checked in a test of its own.
    """
    problems: list[str] = []
    frame = window.frameGeometry()
    if width_only:
        frame = QRect(frame.x(), area.y(), frame.width(), min(frame.height(), area.height()))
    if not area.contains(frame):
        problems.append(f"window {frame.width()}×{frame.height()} at ({frame.x()}, {frame.y()}) "
                        f"is not within the screen {area.width()}×{area.height()}")
    inside = window.rect()
    for button in window.findChildren(QAbstractButton):
        if not button.isVisible() or button.window() is not window or _in_scrolled_content(button, window):
            continue
        if button.parentWidget() is not None and type(button).__name__ == "QToolButton" \
                and button.objectName().startswith("qt_"):
            continue  # Qt's own scroll arrows
        rect = QRect(button.mapTo(window, QPoint(0, 0)), button.size())
        if not inside.contains(rect):
            problems.append(f"{_name(button)} at {rect.getRect()} is outside the window {inside.getRect()}")
            continue
        least = button.minimumSizeHint()
        if button.width() < least.width() or (button.height() < least.height() and not width_only):
            problems.append(f"{_name(button)} is squashed: {button.size().toTuple()}, its text needs "
                            f"{least.toTuple()}")
        shown = button.visibleRegion().boundingRect()
        if shown.size() != button.size():
            problems.append(f"{_name(button)} is cut off or covered: {shown.size().toTuple()} of "
                            f"{button.size().toTuple()} shows")
    kinds = (QLineEdit, QComboBox, QAbstractSpinBox)
    fields = [w for w in window.findChildren(QWidget) if isinstance(w, kinds)]
    for field in fields:
        if not field.isVisible() or field.window() is not window or isinstance(field.parentWidget(),
                                                                            (QComboBox, QAbstractSpinBox)):
            continue
        # A line of its text and the frame around it (the hints of a styled field differ by a pixel
        # or two from what a form layout gives it, which cuts nothing).
        need = field.fontMetrics().height() + 4
        if field.height() < need:
            problems.append(f"{_name(field)} is squashed: {field.height()} px high, its text needs {need}")
    return problems
