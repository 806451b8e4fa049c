"""The running QApplication, typed as one.

``QApplication.instance()`` is typed as an optional QCoreApplication; the
widgets only ever run under a QApplication, and code that filters the whole
application's input (the lock screen, the idle watcher) needs that type.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication


def running_app() -> QApplication:
    """The QApplication of this process; RuntimeError when there is none (a widget used too early)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("no QApplication is running")
    return app
