"""Windows sized to the screen they open on, and a wrapping row for bars of controls.

A window that opens larger than its screen hides what is at its edge: on a
1280×720 display the chair's Stop, Pause and Adverse event went off-screen
(issue 20, item 7). Every top-level window and dialog is sized through
:func:`fit_to_screen`, which asks the screen's *available* geometry (what the
task bar and panels leave) and never makes a window larger than that. Tests
pass an explicit geometry, so the same function is checked at 1280×720 and
1920×1080 without a real screen of each size.

:class:`FlowLayout` lets a bar of filters wrap onto a second line instead of
widening its window.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMargins, QObject, QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLayout,
    QLayoutItem,
    QMenu,
    QSizePolicy,
    QWidget,
    QWidgetItem,
)

PREFERRED = QSize(1600, 1000)
"""The main window's size on a screen with room for it; a smaller screen gets all of its own."""


def available_geometry(widget: QWidget | None = None) -> QRect:
    """The usable part of the screen ``widget`` is on (the primary screen when it is on none yet)."""
    screen = widget.screen() if widget is not None else None
    if screen is None:
        screen = QGuiApplication.primaryScreen()
    if screen is None:  # no screen at all: nothing to fit to, so nothing is shrunk
        return QRect(0, 0, PREFERRED.width(), PREFERRED.height())
    return screen.availableGeometry()


def fit_to_screen(window: QWidget, preferred: QSize | None = None,
                  available: QRect | None = None) -> QRect:
    """Size ``window`` to ``preferred`` (default: its size hint) but never beyond ``available``.

    ``available`` defaults to the window's screen's available geometry. The window is moved so
    that all of it lies on that screen. No maximum size is set (the window may still be moved to
    a larger screen and maximised there): what keeps it within the screen afterwards is that
    long messages wrap and wide tables scroll, which tests/ui/test_screen_fit.py checks.
    Returns the geometry given to the window.
    """
    area = available if available is not None else available_geometry(window)
    want = preferred if preferred is not None else window.sizeHint()
    size = want.boundedTo(area.size()).expandedTo(QSize(1, 1))
    window.resize(size)
    size = window.size().boundedTo(area.size())
    left = area.left() + max(0, (area.width() - size.width()) // 2)
    top = area.top() + max(0, (area.height() - size.height()) // 2)
    window.move(QPoint(left, top))
    return QRect(QPoint(left, top), size)


class FlowLayout(QLayout):
    """Items left to right, wrapping to a new line when the width runs out (Qt's flow layout example)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        if parent is None:
            self.setContentsMargins(QMargins(0, 0, 0, 0))

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def add_pair(self, *widgets: QWidget) -> None:
        """Widgets that must stay on one line together (a label and its field)."""
        holder = QWidget(self.parentWidget())
        holder.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(self._spacing // 2)
        for widget in widgets:
            row.addWidget(widget)
        self.addItem(QWidgetItem(holder))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _place(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line = area.x(), area.y(), 0
        for item in self._items:
            if item.isEmpty():
                continue
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and line > 0:
                x, y, line = area.x(), y + line + self._spacing, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y() + m.bottom()



class ScreenFitter(QObject):
    """Every window and dialog, as it is shown, made to lie within its screen's available geometry.

    Installed once on the application (``app.installEventFilter(ScreenFitter(app))`` in
    console.ui.app): a dialog sized for a large screen, or a window that a long message made
    wider, is shrunk to the screen and moved onto it instead of hanging over its edge. The
    tests install one with an explicit ``available`` geometry (1280×720, 1920×1080), so they
    check the very rule the program uses.
    """

    def __init__(self, parent: QObject | None = None, available: QRect | None = None) -> None:
        super().__init__(parent)
        self.available = available

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Show and isinstance(watched, QWidget) and watched.isWindow() \
                and not isinstance(watched, QMenu) and watched.windowType() not in _POPUPS:
            self.fit(watched)
        elif kind == QEvent.Type.LayoutRequest and isinstance(watched, QDialog) and watched.isVisible():
            # A message that appears in a shown dialog (a safety warning, a lockout) wraps onto
            # more lines; Qt does not grow a shown window for that, so its fields were squashed.
            QTimer.singleShot(0, watched, lambda: self.grow(watched))
        return False

    def grow(self, dialog: QDialog) -> None:
        """Make ``dialog`` as high as its contents need at its width, within the screen."""
        layout = dialog.layout()
        if layout is None:
            return
        width = dialog.width()
        need = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else -1
        need = max(need, layout.totalSizeHint().height() if not layout.hasHeightForWidth() else 0,
                   layout.totalMinimumSize().height())
        if need > dialog.height():
            area = self.available if self.available is not None else available_geometry(dialog)
            frame = dialog.frameGeometry().height() - dialog.height()
            dialog.resize(width, min(need, area.height() - frame))
            self.fit(dialog)

    def fit(self, window: QWidget) -> None:
        """Shrink ``window`` to the available geometry when larger, and move it onto it."""
        area = self.available if self.available is not None else available_geometry(window)
        geometry = window.frameGeometry()
        if area.contains(geometry):
            return
        frame = geometry.size() - window.size()  # the window manager's frame, none offscreen
        room = area.size() - frame
        if window.width() > room.width() or window.height() > room.height():
            window.resize(window.size().boundedTo(room))
        size = window.frameGeometry().size()
        left = min(max(geometry.left(), area.left()), area.right() + 1 - size.width())
        top = min(max(geometry.top(), area.top()), area.bottom() + 1 - size.height())
        window.move(max(left, area.left()), max(top, area.top()))


_POPUPS = (Qt.WindowType.Popup, Qt.WindowType.ToolTip, Qt.WindowType.SplashScreen)
