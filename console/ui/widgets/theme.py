"""Colours and the style sheet: painted widgets (target view, plots) use the
same colours as the style sheet in ``resources/style.qss``."""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from console.resource_data.lists import style_sheet

log = logging.getLogger(__name__)

BACKGROUND = "#1b2128"
PANEL = "#232b34"
GRID = "#33404d"
TEXT = "#e6ebf0"
MUTED = "#9aa7b4"
ON = "#3aa776"
NEAR = "#d99a2b"
OFF = "#d5544a"
NONE = "#65727f"
ACCENT = "#7fb2e5"
INTENSITY = "#c9a8f0"

# One rule (console.session.session_alarms.on_target), one colour: off target is OFF everywhere
# (the band, the coil panel, the live plot, the review plot).
ZONE_COLOURS = {"on": ON, "off": OFF, "none": NONE, "no_device": NONE, "not_tracked": NONE}
ZONE_WORDS = {"on": "On target", "off": "Off target",
              "none": "Coil not visible", "no_device": "No data from the device",
              "not_tracked": "Coil position not tracked for this course"}
GUIDE = MUTED
"""Twice the tolerance, drawn as a distance guide only: it is not a zone of its own."""


def qcolor(name: str, alpha: int = 255) -> QColor:
    colour = QColor(name)
    colour.setAlpha(alpha)
    return colour


def apply_style(app: QApplication) -> None:
    """Apply the clinic's style sheet; a missing or unreadable file leaves Qt's default look."""
    text = style_sheet()
    if text is None:
        log.warning("style sheet style.qss not read: Qt's default look")
        return
    app.setStyleSheet(text)
