"""Creates the QApplication and the main window; the GUI's composition root.

Starts the domain (``console.startup``: resource files checked, the database
opened and migrated, sessions a crash left behind marked interrupted), says
plainly why when it cannot, says once which sessions were interrupted,
offers the demo's simulated device (``sim://``) with ``--demo``, and closes
all of it when the window closes.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from console.paths import default_db_path
from console.session.course_overview import recovery_notice
from console.startup import StartupFailed, start
from console.ui.chair.demo import demo_device_url
from console.ui.main_window import TITLE, MainWindow
from console.ui.widgets.screen_fit import ScreenFitter
from console.ui.widgets.theme import apply_style

log = logging.getLogger(__name__)


def _quit_on_signals(app: QApplication) -> None:
    """Ctrl+C or a TERM signal ends the program the orderly way: an open session is closed
    (stopped, "program closed") and the demo's device stopped, instead of dying mid-write.
    Qt's event loop does not run Python's signal handlers, so a timer lets them in."""

    def stop(signum: int, _frame: object) -> None:
        log.warning("signal %d: closing", signum)
        app.quit()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    timer = QTimer(app)
    timer.timeout.connect(_wake)
    timer.start(250)


def _wake() -> None:
    """Nothing to do: returning to Python is what lets a pending signal handler run."""


def run_app(args: argparse.Namespace) -> int:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(TITLE)
    app.setOrganizationName("tms-session-console")
    apply_style(app)
    # Every window and dialog lies within its screen when shown (issue 20, item 7).
    app.installEventFilter(ScreenFitter(app))
    db_path = Path(getattr(args, "db", None) or default_db_path())
    try:
        started = start(db_path)
    except StartupFailed as exc:
        log.error("cannot start: %s", exc)
        QMessageBox.critical(None, TITLE, str(exc))
        return 2
    db, interrupted = started.store, started.interrupted
    demo = bool(getattr(args, "demo", False))
    try:
        device_url = demo_device_url() if demo else None
        window = MainWindow(db, db_path, demo=demo, device_url=device_url)
        if interrupted:
            # By patient and session number, never the record's internal number (issue 20, item 19).
            window.show_notice(recovery_notice(db, interrupted))
        window.show()
        window.start()
        _quit_on_signals(app)
        code = app.exec()
        window.shutdown()
        return code
    finally:
        db.close()
