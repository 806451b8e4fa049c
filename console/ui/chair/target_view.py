"""Where the coil is against the target: the x/y offset in mm inside the
tolerance circle, with depth and angle error and one word for the zone.

Green on target (within tolerance), red off target (the alarm's own rule,
console.session.session_alarms.on_target), grey when the tracker cannot see
the coil or the course has no tracked target; the dashed ring at twice the
tolerance is only a distance guide. Painted directly with
QPainter: a few shapes, repainted only when what they show has changed.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from console.session.snapshot import LiveSnapshot
from console.ui.widgets import theme
from console.ui.widgets.big_numbers import _set
from console.ui.widgets.formatting import DASH, number, percent, signed

RANGE_TOLERANCES = 4.0  # the circle's edge is 4 tolerances from the target


class TargetPlot(QWidget):
    """The painted bull's-eye: tolerance circle, 2x circle, and the coil's dot."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(220, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Coil position against the target")
        self._state: tuple = ("none", None, None, 3.0)

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def show_offset(self, zone: str, x_mm: float | None, y_mm: float | None, tol_mm: float) -> None:
        """Repaint only when the dot moves by 0.05 mm or more, or the zone changes."""
        state = (
            zone,
            None if x_mm is None else round(x_mm, 1),
            None if y_mm is None else round(y_mm, 1),
            tol_mm,
        )
        if state != self._state:
            self._state = state
            self.update()

    def paintEvent(self, event) -> None:
        zone, x_mm, y_mm, tol = self._state
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        side = min(self.width(), self.height()) - 16
        centre = QPointF(self.width() / 2, self.height() / 2)
        radius = side / 2
        scale = radius / (RANGE_TOLERANCES * max(tol, 0.1))  # px per mm
        # Field and rings.
        painter.setPen(QPen(theme.qcolor(theme.GRID), 1))
        painter.setBrush(QBrush(theme.qcolor("#141a20")))
        painter.drawEllipse(centre, radius, radius)
        painter.drawLine(QPointF(centre.x() - radius, centre.y()), QPointF(centre.x() + radius, centre.y()))
        painter.drawLine(QPointF(centre.x(), centre.y() - radius), QPointF(centre.x(), centre.y() + radius))
        near = QPen(theme.qcolor(theme.GUIDE, 200), 1, Qt.PenStyle.DashLine)  # a guide, not a zone
        painter.setPen(near)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(centre, 2 * tol * scale, 2 * tol * scale)
        painter.setPen(QPen(theme.qcolor(theme.ON), 3))
        painter.setBrush(QBrush(theme.qcolor(theme.ON, 40)))
        painter.drawEllipse(centre, tol * scale, tol * scale)
        # Scale marks: the tolerance in mm at the ring.
        painter.setPen(QPen(theme.qcolor(theme.MUTED)))
        font = painter.font()
        font.setPixelSize(13)
        painter.setFont(font)
        painter.drawText(QPointF(centre.x() + 5, centre.y() - tol * scale - 5), f"{tol:g} mm")
        painter.drawText(QPointF(centre.x() + 5, centre.y() - 2 * tol * scale - 5), f"{2 * tol:g} mm")
        if x_mm is None or y_mm is None:
            painter.setPen(QPen(theme.qcolor(theme.MUTED)))
            font.setPixelSize(18)
            painter.setFont(font)
            painter.drawText(
                QRectF(centre.x() - radius, centre.y() + radius / 3, 2 * radius, 30),
                Qt.AlignmentFlag.AlignCenter,
                {"no_device": "no data", "not_tracked": "not tracked"}.get(zone, "coil not visible"),
            )
            painter.end()
            return
        colour = theme.qcolor(theme.ZONE_COLOURS.get(zone, theme.NONE))
        dx, dy = x_mm * scale, -y_mm * scale  # y up on screen
        length = (dx * dx + dy * dy) ** 0.5
        limit = radius - 12
        if length > limit:  # beyond the field: an arrow at the edge points the way
            ux, uy = dx / length, dy / length
            tip = QPointF(centre.x() + ux * (radius - 2), centre.y() + uy * (radius - 2))
            base = QPointF(centre.x() + ux * (radius - 26), centre.y() + uy * (radius - 26))
            arrow = QPainterPath(tip)
            arrow.lineTo(base.x() - uy * 13, base.y() + ux * 13)
            arrow.lineTo(base.x() + uy * 13, base.y() - ux * 13)
            arrow.closeSubpath()
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(colour))
            painter.drawPath(arrow)
        else:
            painter.setPen(QPen(theme.qcolor("#0d1115"), 2))
            painter.setBrush(QBrush(colour))
            painter.drawEllipse(QPointF(centre.x() + dx, centre.y() + dy), 11, 11)
        painter.end()


class TargetView(QFrame):
    """The bull's-eye with the zone word and the distance, depth and angle beside it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setAccessibleName("Target")
        self.plot = TargetPlot(self)
        self.zone_word = QLabel(theme.ZONE_WORDS["none"], self)
        self.zone_word.setObjectName("midValue")
        self.zone_word.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zone_word.setWordWrap(True)
        self.distance = QLabel(DASH, self)
        self.depth_value = QLabel(DASH, self)  # not "depth": that would hide QWidget.depth()
        self.angle = QLabel(DASH, self)
        self.share = QLabel(DASH, self)
        details = QGridLayout()
        details.setHorizontalSpacing(14)
        for row, (caption, label) in enumerate(
            (("Distance", self.distance), ("Depth", self.depth_value), ("Angle", self.angle),
             ("Pulses on target", self.share))
        ):
            cap = QLabel(caption, self)
            cap.setObjectName("caption")
            label.setObjectName("subValue")
            label.setAccessibleName(caption)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            details.addWidget(cap, row, 0)
            details.addWidget(label, row, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.zone_word)
        layout.addLayout(details)
        self._zone: str | None = None

    def show_snapshot(self, snap: LiveSnapshot) -> None:
        zone = snap.zone if snap.pose_visible else "none"
        if not snap.target_tracked:
            zone = "not_tracked"  # said plainly, not "coil not visible" all session
        elif not snap.device_connected and snap.session_id is not None:
            zone = "no_device"
        self.plot.show_offset(zone, snap.offset_x_mm, snap.offset_y_mm, snap.tol_distance_mm)
        if zone != self._zone:
            self._zone = zone
            self.zone_word.setText(theme.ZONE_WORDS.get(zone, zone))
            self.zone_word.setStyleSheet(f"color: {theme.ZONE_COLOURS.get(zone, theme.NONE)};")
        visible = snap.pose_visible
        _set(self.distance, f"{number(snap.distance_mm, 1)} mm" if visible else DASH)
        depth = f"{signed(snap.depth_mm)} mm" if visible and snap.depth_mm is not None else DASH
        _set(self.depth_value, depth)
        _set(self.angle, f"{number(snap.angle_deg, 1)}°" if visible and snap.angle_deg is not None else DASH)
        _set(self.share, percent(snap.on_target_share))
