"""The big numbers of a running session, readable from the far side of the chair:
intensity (% MSO and % MT), pulses, train, elapsed and remaining time, progress."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from console.session.snapshot import LiveSnapshot
from console.ui.widgets.formatting import DASH, clock, number


def _set(label: QLabel, text: str) -> None:
    """Set a label's text only when it changed: no relayout or repaint otherwise."""
    if label.text() != text:
        label.setText(text)


class Tile(QFrame):
    """One caption over one big value, with a smaller line under it."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 6, 14, 6)  # compact (a 1280×720 screen); the value keeps its size
        layout.setSpacing(0)
        self.caption = QLabel(caption.upper(), self)
        self.caption.setObjectName("caption")
        self.value = QLabel(DASH, self)
        self.value.setObjectName("bigValue")
        self.value.setTextFormat(Qt.TextFormat.PlainText)
        self.sub = QLabel("", self)
        self.sub.setObjectName("subValue")
        self.sub.setTextFormat(Qt.TextFormat.PlainText)
        for label in (self.caption, self.value, self.sub):
            layout.addWidget(label)
        self.setAccessibleName(caption)

    def show_values(self, value: str, sub: str = "") -> None:
        _set(self.value, value)
        _set(self.sub, sub)
        self.setAccessibleDescription(f"{value} {sub}".strip())


def _grouped(n: int | None) -> str:
    return DASH if n is None else f"{n:,}".replace(",", " ")


class BigNumbers(QWidget):
    """Intensity, pulses, train and time; ``show_snapshot`` updates only what changed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Session numbers")
        self.intensity = Tile("Intensity", self)
        self.pulses = Tile("Pulses", self)
        self.train = Tile("Train", self)
        self.time = Tile("Elapsed", self)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("–")
        self.progress.setAccessibleName("Session progress")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        grid.addWidget(self.intensity, 0, 0)
        grid.addWidget(self.pulses, 0, 1)
        grid.addWidget(self.train, 1, 0)
        grid.addWidget(self.time, 1, 1)
        grid.addWidget(self.progress, 2, 0, 1, 2)
        self._intensity_mismatch: bool | None = None
        self._planned: int | None = None

    def show_snapshot(self, snap: LiveSnapshot) -> None:
        self._show_intensity(snap)
        self._room_for_pulses(snap.pulses_planned)
        if not snap.pulses_observed:  # never a count of zero for a device that cannot say (issue 16)
            self.pulses.show_values(f"? / {_grouped(snap.pulses_planned)}",
                                    "not observed: this device does not report each pulse")
        else:
            self.pulses.show_values(
                f"{_grouped(snap.pulses_delivered)} / {_grouped(snap.pulses_planned)}",
                "" if snap.pulses_recorded == snap.pulses_delivered
                else f"{_grouped(snap.pulses_delivered - snap.pulses_recorded)} fired while not recorded",
            )
        self.train.show_values(f"{snap.train} / {number(snap.trains_planned)}")
        self.time.show_values(clock(snap.elapsed_s), f"remaining {clock(snap.remaining_s)}")
        if snap.pulses_planned and snap.pulses_observed:
            share = min(1.0, snap.pulses_delivered / snap.pulses_planned)
            value = round(1000 * share)
            if self.progress.value() != value:
                self.progress.setValue(value)
            text = f"{100 * share:.0f} %"
            if self.progress.format() != text:
                self.progress.setFormat(text)

    def _room_for_pulses(self, planned: int | None) -> None:
        """Keep room for the widest count this session shows ("3 000 / 3 000"): the layout
        gives the pulses' column that width, so the count is never cut on a narrow screen."""
        if planned is None or planned == self._planned:
            return
        self._planned = planned
        widest = f"{_grouped(planned)} / {_grouped(planned)}"
        self.pulses.value.setMinimumWidth(self.pulses.value.fontMetrics().horizontalAdvance(widest) + 4)

    def _show_intensity(self, snap: LiveSnapshot) -> None:
        value = DASH if snap.mso is None else f"{snap.mso} % MSO"
        parts = []
        if snap.percent_mt is not None:
            parts.append(f"{snap.percent_mt:.0f} % MT")
        mismatch = (
            snap.mso is not None and snap.prescribed_mso is not None and snap.mso != snap.prescribed_mso
        )
        if snap.prescribed_mso is not None:
            parts.append(("prescribed " if not mismatch else "≠ prescribed ") + f"{snap.prescribed_mso}")
        self.intensity.show_values(value, " · ".join(parts))
        if mismatch != self._intensity_mismatch:
            self._intensity_mismatch = mismatch
            self.intensity.sub.setObjectName("warning" if mismatch else "subValue")
            self.intensity.sub.style().unpolish(self.intensity.sub)
            self.intensity.sub.style().polish(self.intensity.sub)
