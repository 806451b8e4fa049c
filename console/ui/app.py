"""Creates the QApplication and the main window; the GUI's composition root.

Opens the database (checked and migrated), marks sessions a crash left
behind as interrupted and says so once, starts the demo's simulated device
with ``--demo``, and closes all of it when the window closes.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from console.paths import default_db_path
from console.ui.demo import DemoDevice
from console.ui.main_window import TITLE, MainWindow
from console.ui.theme import apply_style
from db.database import DatabaseUnusable, open_database
from db.recovery import mark_interrupted_sessions

log = logging.getLogger(__name__)


def run_app(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(TITLE)
    app.setOrganizationName("tms-session-console")
    apply_style(app)
    db_path = Path(getattr(args, "db", None) or default_db_path())
    try:
        db = open_database(db_path)
    except DatabaseUnusable as exc:
        QMessageBox.critical(None, TITLE, str(exc))
        return 2
    demo = bool(getattr(args, "demo", False))
    device = DemoDevice() if demo else None
    try:
        interrupted = mark_interrupted_sessions(db, db_path)
        device_url = device.start() if device is not None else None
        window = MainWindow(db, db_path, demo=demo, device_url=device_url)
        if interrupted:
            ids = ", ".join(str(i) for i in interrupted)
            window.show_notice(f"Found after a stop of the program: session {ids} marked interrupted, "
                               "with everything recorded up to then.")
        if device is not None and device.problem:
            window.show_notice(device.problem)
        window.show()
        window.start()
        code = app.exec()
        window.shutdown()
        return code
    finally:
        if device is not None:
            device.stop()
        db.close()
