"""Canary for the PySide6 6.12.0 / Python 3.11 crash ("Fatal Python error:
none_dealloc" after ~10^5 QPainter calls that return None).

If an upgrade brings the bug back, the child process dies and this fails.
It runs in a child so the crash cannot take the whole suite down with it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import os
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QLineF
    from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen
    app = QGuiApplication([])
    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    pen = QPen(QColor(10, 20, 30))
    line = QLineF(0, 0, 63, 63)
    for i in range(150_000):
        painter.setPen(pen)
        painter.drawLine(line)
    painter.end()
    print("painted", 300_000)
    """
)


def test_hundreds_of_thousands_of_qpainter_calls_do_not_kill_the_process() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=110
    )
    assert result.returncode == 0, (
        f"the Qt painting canary died (status {result.returncode}): {result.stderr[-800:]}\n"
        "A PySide6 upgrade has likely brought back the none_dealloc crash: pin below it."
    )
    assert "painted 300000" in result.stdout


def test_installed_pyside6_is_within_the_pinned_range() -> None:
    import PySide6

    version = tuple(int(p) for p in PySide6.__version__.split(".")[:3])
    assert version >= (6, 8, 0)
    assert version != (6, 9, 1)
    assert version < (6, 12, 0)
