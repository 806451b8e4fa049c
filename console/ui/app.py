"""Creates the QApplication and the main window; the GUI's composition root."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtWidgets import QApplication

from console.ui.main_window import MainWindow


def run_app(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("TMS Session Console")
    app.setOrganizationName("tms-session-console")
    window = MainWindow(demo=bool(getattr(args, "demo", False)))
    window.show()
    return app.exec()
