"""Plain words at the chair for what the device and the link report, with the technical text
kept in a "Details" fold for the curious (a service engineer), never in the main sentence.

A serial port's own error ("device reports readiness to read but returned no data (device
disconnected or multiple access on port?)"), a device's refusal code or a raw device address
is true but means nothing to a technician with a patient in the chair.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QToolButton, QVBoxLayout, QWidget

# The device layer's messages, by what they mean for the person at the chair (first match wins).
_MEANINGS = (
    (("did not answer", "timed out", "no answer"),
     "The device did not answer in time. Check the stimulator, then try again."),
    (("not a valid", "refused", "nak", "busy"),
     "The device did not accept the command. Check the stimulator's own display."),
    (("closed", "unplugged", "disconnected", "not connected", "no data", "broken pipe", "lost"),
     "The connection to the device was lost. Check its cable and that it is switched on."),
    (("cannot open", "no such file", "permission denied", "busy or", "not a device address",
      "names no port", "unknown option"),
     "The console could not reach the device at this address. Check that it is switched on and "
     "plugged in, and the address chosen."),
    (("does not support", "cannot send commands"),
     "This device cannot be controlled from the console: use the stimulator's own panel."),
)
GENERAL = "The device reported a problem. Check the stimulator."


def device_problem(text: str | None) -> str:
    """One plain sentence for a device or link message (empty for none)."""
    if not text:
        return ""
    low = text.lower()
    for keys, words in _MEANINGS:
        if any(key in low for key in keys):
            return words
    return GENERAL


def place_words(url: str) -> str:
    """Where the device is, in words, instead of its raw address (kept in the Details)."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "sim":
        return "the simulated stimulator (practice, no patient)"
    if scheme == "replay":
        return "a recorded session being replayed (no patient)"
    if "serial" in scheme or rest.startswith("/dev/") or rest.upper().startswith("COM"):
        port = rest.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "a serial port"
        return f"the stimulator on cable port {port}"
    if "tcp" in scheme or "socket" in scheme:
        return "the stimulator on the network"
    return "the stimulator"


class DetailsFold(QWidget):
    """A plain sentence, and under a "Details" button the exact technical text."""

    def __init__(self, parent: QWidget | None = None, *, object_name: str = "warning") -> None:
        super().__init__(parent)
        self.text = QLabel("", self)
        self.text.setObjectName(object_name)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.toggle = QToolButton(self)
        self.toggle.setText("Details ▸")
        self.toggle.setCheckable(True)
        self.toggle.setAccessibleName("Show the technical details")
        self.toggle.toggled.connect(self._fold)
        self.details = QLabel("", self)
        self.details.setObjectName("hint")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("Technical details")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.text)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.details)
        self.show_text("", "")

    def show_text(self, plain: str, technical: str = "") -> None:
        """``plain`` for everyone; ``technical`` only when unfolded (the fold hides when empty)."""
        self.text.setText(plain)
        self.text.setVisible(bool(plain))
        self.details.setText(technical)
        has_details = bool(technical) and technical != plain
        self.toggle.setVisible(has_details)
        if not has_details:
            self.toggle.setChecked(False)
        self.details.setVisible(has_details and self.toggle.isChecked())
        self.setVisible(bool(plain) or has_details)  # takes no room when there is nothing to say

    def _fold(self, open_: bool) -> None:
        self.toggle.setText("Details ▾" if open_ else "Details ▸")
        self.details.setVisible(open_ and bool(self.details.text()))
