"""The main window opens (offscreen) with its title."""

from __future__ import annotations

from console.ui.main_window import MainWindow


def test_main_window_opens(qtbot) -> None:
    window = MainWindow(demo=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert "DEMO" in window.windowTitle()
