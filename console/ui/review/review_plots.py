"""The session's plots for review: the timeline and the pose at each pulse around the target.

Timeline (one time axis, seconds of the run): distance to target (poses as a
line, each pulse as a dot, green on target / red off / grey without a pose),
the intensity of every pulse against the prescription, and a strip of pulse
ticks with a taller tick where each train starts. Pauses, faults and the
device lost are shaded across all three. The plot objects are made once and
refilled for each session (``show``), so moving through the queue is quick.
The same widgets, grabbed offscreen, are the pictures of the PDF report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QWidget

from console.review.detail import PoseScatter, SessionDetail, Timeline
from console.ui.widgets import theme

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Palette:
    background: str
    text: str
    muted: str
    grid: str
    on: str
    off: str
    none: str
    near: str
    accent: str
    intensity: str
    span_alpha: int


SCREEN = Palette(theme.PANEL, theme.TEXT, theme.MUTED, theme.GRID, theme.ON, theme.OFF, theme.NONE,
                 theme.NEAR, theme.ACCENT, theme.INTENSITY, 50)
PAPER = Palette("#ffffff", "#1f2933", "#6b7785", "#c5ccd3", "#2e8b57", "#c0392b", "#8c96a0", "#b7791f",
                "#2b5f8a", "#7b4fb0", 45)


def _span_colour(kind: str, p: Palette) -> str:
    return {"pause": p.accent, "fault": p.off, "device_lost": p.near}.get(kind, p.muted)


def _dots(colour: str) -> pg.PlotDataItem:
    return pg.PlotDataItem([], [], pen=None, symbol="o", symbolSize=4, symbolPen=None,
                           symbolBrush=theme.qcolor(colour))


def _style(plot: pg.PlotItem, p: Palette) -> None:
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(p.grid))
        axis.setTextPen(pg.mkPen(p.muted))


class TimelinePlot(pg.GraphicsLayoutWidget):
    """Distance, intensity and pulse/train strips of one session on a shared time axis."""

    def __init__(self, parent: QWidget | None = None, palette: Palette = SCREEN) -> None:
        super().__init__(parent)
        self.palette_ = p = palette
        self.setBackground(p.background)
        self.setMinimumHeight(240)  # a 1280×720 screen still shows all three strips (issue 20)
        self.distance = self.addPlot(row=0, col=0)
        self.intensity = self.addPlot(row=1, col=0)
        self.strip = self.addPlot(row=2, col=0)
        self.ci.layout.setRowStretchFactor(0, 4)
        self.ci.layout.setRowStretchFactor(1, 2)
        self.ci.layout.setRowStretchFactor(2, 1)
        # Each strip tall enough for its axis label at the smallest height (a 1280×720 screen).
        self.ci.layout.setRowMinimumHeight(0, 100)
        self.ci.layout.setRowMinimumHeight(1, 56)
        for plot, label in ((self.distance, "distance (mm)"), (self.intensity, "% MSO"), (self.strip, "")):
            plot.setLabel("left", label, color=p.muted)
            _style(plot, p)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMouseEnabled(x=True, y=False)
            plot.getAxis("left").setWidth(54)
            plot.hideButtons()
            if plot is not self.distance:
                plot.setXLink(self.distance)
        self.distance.hideAxis("bottom")
        self.intensity.hideAxis("bottom")
        self.strip.setLabel("bottom", "time from the start of the run (s)", color=p.muted)
        self.strip.getAxis("left").setTicks([[]])
        self.strip.setYRange(0, 1.7, padding=0)
        self.pose_line = pg.PlotDataItem([], [], pen=pg.mkPen(p.muted, width=1), connect="finite")
        self.on_dots, self.off_dots, self.blind_dots = _dots(p.on), _dots(p.off), _dots(p.none)
        for item in (self.pose_line, self.on_dots, self.off_dots, self.blind_dots):
            self.distance.addItem(item)
        self.tolerance = pg.InfiniteLine(angle=0, pen=pg.mkPen(p.near, width=1, style=Qt.PenStyle.DashLine))
        self.distance.addItem(self.tolerance)
        self.mso_line = pg.PlotDataItem([], [], pen=pg.mkPen(p.intensity, width=2))
        self.prescribed = pg.InfiniteLine(angle=0, pen=pg.mkPen(p.text, width=1, style=Qt.PenStyle.DashLine))
        self.intensity.addItem(self.mso_line)
        self.intensity.addItem(self.prescribed)
        self.pulse_ticks = pg.PlotDataItem([], [], pen=pg.mkPen(p.accent, width=1), connect="pairs")
        self.train_ticks = pg.PlotDataItem([], [], pen=pg.mkPen(p.text, width=1.5), connect="pairs")
        self.strip.addItem(self.pulse_ticks)
        self.strip.addItem(self.train_ticks)
        self._regions: list[tuple[pg.PlotItem, pg.LinearRegionItem]] = []

    def show_timeline(self, t: Timeline, prescribed_mso: float | None, tol_mm: float) -> None:
        """Refill every curve for one session."""
        has_pose = ~np.isnan(t.pulse_distance)
        on = has_pose & (t.pulse_on_target == 1)
        off = has_pose & ~on
        self.pose_line.setData(t.pose_t, t.pose_distance)
        self.on_dots.setData(t.pulse_t[on], t.pulse_distance[on])
        self.off_dots.setData(t.pulse_t[off], t.pulse_distance[off])
        blind = ~has_pose
        self.blind_dots.setData(t.pulse_t[blind], np.zeros(int(blind.sum())))
        self.tolerance.setPos(tol_mm)
        self.mso_line.setData(t.pulse_t, t.pulse_mso)
        self.prescribed.setVisible(prescribed_mso is not None)
        if prescribed_mso is not None:
            self.prescribed.setPos(prescribed_mso)
        self.pulse_ticks.setData(np.repeat(t.pulse_t, 2), np.tile([0.0, 0.8], len(t.pulse_t)))
        self.train_ticks.setData(np.repeat(t.train_starts, 2), np.tile([0.0, 1.6], len(t.train_starts)))
        for plot, region in self._regions:
            plot.removeItem(region)
        self._regions.clear()
        for span in t.spans:
            colour, alpha = _span_colour(span.kind, self.palette_), self.palette_.span_alpha
            end = span.end_s if span.end_s is not None else max(t.end_s, span.start_s)
            for plot in (self.distance, self.intensity, self.strip):
                region = pg.LinearRegionItem((span.start_s, max(end, span.start_s + 0.2)), movable=False,
                                             brush=theme.qcolor(colour, alpha), pen=pg.mkPen(None))
                region.setToolTip(span.label)
                region.setZValue(-10)
                plot.addItem(region)
                self._regions.append((plot, region))
        end = max(t.end_s, 1.0)
        self.distance.setXRange(0, end, padding=0.01)
        finite = t.pulse_distance[has_pose]
        top = tol_mm * 2
        if finite.size:
            top = max(top, float(finite.max()) * 1.1)
        if t.pose_distance.size and np.isfinite(t.pose_distance).any():
            top = max(top, float(np.nanmax(t.pose_distance)) * 1.1)
        self.distance.setYRange(0, top, padding=0)
        if t.pulse_mso.size:
            low = min(float(t.pulse_mso.min()), prescribed_mso or 1e9)
            high = max(float(t.pulse_mso.max()), prescribed_mso or 0)
            self.intensity.setYRange(low - 4, high + 4, padding=0)


class PoseScatterPlot(pg.PlotWidget):
    """The coil's position at each pulse in the target's plane, with the tolerance circle."""

    def __init__(self, parent: QWidget | None = None, palette: Palette = SCREEN) -> None:
        super().__init__(parent, background=palette.background)
        p = palette
        self.setMinimumSize(QSize(200, 200))
        item = self.getPlotItem()
        _style(item, p)
        item.setAspectLocked(True)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("bottom", "offset in the coil plane, x (mm)", color=p.muted)
        item.setLabel("left", "y (mm)", color=p.muted)
        item.hideButtons()
        self.on_dots, self.off_dots = _dots(p.on), _dots(p.off)
        item.addItem(self.off_dots)
        item.addItem(self.on_dots)
        self.circle = QGraphicsEllipseItem(-3, -3, 6, 6)
        pen = QPen(theme.qcolor(p.near))
        pen.setCosmetic(True)
        pen.setStyle(Qt.PenStyle.DashLine)
        self.circle.setPen(pen)
        item.addItem(self.circle)
        item.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(p.grid)))
        item.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen(p.grid)))
        self.note = pg.TextItem("", color=p.muted, anchor=(0, 0))
        item.addItem(self.note)

    def show_scatter(self, s: PoseScatter | None) -> None:
        if s is None:
            self.on_dots.setData([], [])
            self.off_dots.setData([], [])
            self.note.setText("Coil position not tracked for this course")
            self.note.setPos(-5, 5)
            self.setRange(xRange=(-5, 5), yRange=(-5, 5))
            return
        on = s.on_target == 1
        self.on_dots.setData(s.x[on], s.y[on])
        self.off_dots.setData(s.x[~on], s.y[~on])
        r = s.tol_distance_mm
        self.circle.setRect(-r, -r, 2 * r, 2 * r)
        reach = max(r * 1.6, float(np.abs(np.r_[s.x, s.y]).max()) * 1.1 if s.x.size else 0)
        self.note.setText(f"{s.without_pose} pulse(s) without a pose" if s.without_pose else "")
        self.note.setPos(-reach, reach)
        self.setRange(xRange=(-reach, reach), yRange=(-reach, reach), padding=0)


def _render(widget: QWidget, size: QSize, scale: float) -> QImage:
    """``widget`` drawn at ``size`` (logical pixels) into an image ``scale`` times as fine."""
    widget.resize(size)
    image = QImage(int(size.width() * scale), int(size.height() * scale), QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(scale)
    image.fill(Qt.GlobalColor.white)
    QWidget.render(widget, image)  # the widget's own render, not the graphics view's
    return image


TIMELINE_SIZE = (760, 340)
SCATTER_SIZE = (340, 340)


def plot_images(detail: SessionDetail, timeline_size: tuple[int, int] = TIMELINE_SIZE,
                scatter_size: tuple[int, int] = SCATTER_SIZE, palette: Palette = PAPER,
                scale: float = 3.0) -> tuple[QImage, QImage]:
    """The two plots of a session as pictures (for the PDF report), drawn offscreen on white.

    Sizes are logical pixels (text keeps its screen size relative to the plot);
    ``scale`` makes the image fine enough for print.
    """
    timeline, scatter = TimelinePlot(palette=palette), PoseScatterPlot(palette=palette)
    try:
        s = detail.session
        timeline.resize(QSize(*timeline_size))
        scatter.resize(QSize(*scatter_size))
        timeline.show_timeline(detail.timeline, s["prescribed_mso"], float(s["tol_distance_mm"]))
        scatter.show_scatter(detail.scatter)
        return _render(timeline, QSize(*timeline_size), scale), _render(scatter, QSize(*scatter_size), scale)
    finally:
        timeline.deleteLater()
        scatter.deleteLater()
