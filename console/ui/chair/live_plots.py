"""Distance to target and intensity over the whole session, with pulse marks.

A 40-minute session holds some 75,000 points, and one software-rendered
redraw of a curve that long costs about 10 ms, so the plots must redraw only
what changed:

- the series live in append-only numpy buffers that grow by doubling
  (``GrowingArray``), so appending never copies the whole history;
- each curve is cut into chunks (``ChunkedCurve``): a full chunk is frozen and
  never touched again; only the short live tail gets ``setData`` (on a view of
  the buffer, not a copy), so Qt repaints just the tail's few pixels;
- the axes have fixed ranges that grow in steps (never auto-range per frame),
  so a new point does not invalidate the whole plot;
- every curve clips to the view and downsamples by peak, so a full redraw
  (resize, screenshot) stays cheap too.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from console.session.snapshot import SeriesPoint
from console.ui.widgets import theme

CHUNK = 1024
TRAIN_GAP_S = 1.0  # pulses further apart than this belong to different trains


class GrowingArray:
    """An append-only float buffer that doubles its capacity when full."""

    def __init__(self, capacity: int = 4096) -> None:
        self._data = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def extend(self, values: np.ndarray | list[float]) -> None:
        values = np.asarray(values, dtype=np.float64)
        need = self.size + len(values)
        if need > len(self._data):
            capacity = len(self._data)
            while capacity < need:
                capacity *= 2
            grown = np.empty(capacity, dtype=np.float64)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : need] = values
        self.size = need

    def view(self) -> np.ndarray:
        """The filled part, without copying."""
        return self._data[: self.size]

    def last(self) -> float | None:
        return float(self._data[self.size - 1]) if self.size else None


class ChunkedCurve:
    """One curve cut into frozen chunks and a live tail; only the tail is ever redrawn."""

    def __init__(self, plot: pg.PlotItem, pen, downsample: bool = True, chunk: int = CHUNK,
                 z: float = 0.0, **style) -> None:
        self._plot = plot
        self._z = z
        self._pen = pen
        self._style = style  # e.g. symbols, for points that must show even when alone
        self._downsample = downsample
        self._chunk = chunk
        self._frozen: list[pg.PlotDataItem] = []
        self._start = 0
        self._tail = self._new_item()

    def _new_item(self) -> pg.PlotDataItem:
        item = pg.PlotDataItem(pen=self._pen, connect="finite", **self._style)
        item.setClipToView(True)
        item.setZValue(self._z)
        if self._downsample:
            item.setDownsampling(auto=True, method="peak")
        self._plot.addItem(item)
        return item

    @property
    def items(self) -> list[pg.PlotDataItem]:
        return [*self._frozen, self._tail]

    def extend_to(self, x: np.ndarray, y: np.ndarray) -> None:
        """Show points up to ``len(x)``; ``x`` and ``y`` are the whole series so far."""
        n = len(x)
        while n - self._start > self._chunk:
            end = self._start + self._chunk + 1  # one point of overlap keeps the line joined
            self._tail.setData(x[self._start : end], y[self._start : end])
            self._frozen.append(self._tail)
            self._start = end - 1
            self._tail = self._new_item()
        if n > self._start:
            self._tail.setData(x[self._start : n], y[self._start : n])

    def clear(self) -> None:
        for item in self.items:
            self._plot.removeItem(item)
        self._frozen.clear()
        self._start = 0
        self._tail = self._new_item()


class SeriesBuffers:
    """The session's plot series: every point, and the pulses with gaps between trains."""

    def __init__(self) -> None:
        self.t = GrowingArray()
        self.distance = GrowingArray()
        self.mso = GrowingArray()
        self.pulse_t = GrowingArray(1024)
        self.pulse_distance = GrowingArray(1024)  # on target (or no pose): NaN where off
        self.pulse_off_distance = GrowingArray(1024)  # off target only: NaN elsewhere
        self.off_t = GrowingArray(256)  # the off-target pulses alone (no NaN: drawn as dots)
        self.off_distance = GrowingArray(256)
        self.pulse_mso = GrowingArray(1024)
        self.count = 0  # SeriesPoints taken in (for series_since)

    def append(self, points: list[SeriesPoint]) -> None:
        if not points:
            return
        self.count += len(points)
        nan = math.nan
        minutes = [p.t_s / 60.0 for p in points]
        self.t.extend(minutes)
        self.distance.extend([nan if p.distance_mm is None else p.distance_mm for p in points])
        self.mso.extend([nan if p.mso is None else p.mso for p in points])
        pt: list[float] = []
        pd: list[float] = []
        po: list[float] = []
        pm: list[float] = []
        ot: list[float] = []
        od: list[float] = []
        last = self.pulse_t.last()
        for p, x in zip(points, minutes, strict=True):
            if not p.is_pulse:
                continue
            if last is not None and (x - last) * 60.0 > TRAIN_GAP_S:
                # A break between trains: NaN in y only (x stays sorted for clip-to-view).
                pt.append(last)
                pd.append(nan)
                po.append(nan)
                pm.append(nan)
            pt.append(x)
            distance = nan if p.distance_mm is None else p.distance_mm
            off = p.on_target is False  # the alarm's own rule, decided by the recorder
            pd.append(nan if off else distance)
            po.append(distance if off else nan)
            if off and p.distance_mm is not None:
                ot.append(x)
                od.append(p.distance_mm)
            pm.append(nan if p.mso is None else p.mso)
            last = x
        if pt:
            self.pulse_t.extend(pt)
            self.pulse_distance.extend(pd)
            self.pulse_off_distance.extend(po)
            self.pulse_mso.extend(pm)
        if ot:
            self.off_t.extend(ot)
            self.off_distance.extend(od)


def _stepped(value: float, step: float) -> float:
    return step * math.ceil(value / step)


class LivePlots(QWidget):
    """Two plots over session time (minutes): distance to target, and intensity."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Distance and intensity plots")
        pg.setConfigOptions(antialias=False, background=theme.PANEL, foreground=theme.MUTED)
        self.distance_widget = pg.PlotWidget(self)
        self.intensity_widget = pg.PlotWidget(self)
        self.distance_widget.setAccessibleName("Distance to target over the session")
        self.intensity_widget.setAccessibleName("Intensity over the session")
        for widget in (self.distance_widget, self.intensity_widget):
            # Read-only pictures: the keyboard skips them (Tab goes control to control).
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            widget.viewport().setFocusPolicy(Qt.FocusPolicy.NoFocus)
            widget.viewport().setAccessibleName(widget.accessibleName())
        self.distance_plot = self.distance_widget.getPlotItem()
        self.intensity_plot = self.intensity_widget.getPlotItem()
        for plot, label in ((self.distance_plot, "distance, mm"), (self.intensity_plot, "% MSO")):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            plot.enableAutoRange(enable=False)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setLabel("left", label)
            plot.getAxis("left").setWidth(64)
        self.intensity_plot.setLabel("bottom", "minutes")
        self.intensity_plot.setXLink(self.distance_plot)
        # Small minimums so the live screen fits a 1280×720 display (issue 20, item 7); the
        # plots take every spare pixel of height on a larger screen (the stretch below).
        self.distance_widget.setMinimumHeight(110)
        self.intensity_widget.setMinimumHeight(90)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.distance_widget, 3)
        layout.addWidget(self.intensity_widget, 2)

        dashed = Qt.PenStyle.DashLine
        self.tol_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(theme.ON, width=1, style=dashed))
        self.near_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(theme.GUIDE, width=1, style=dashed))
        self.distance_plot.addItem(self.tol_line)
        self.distance_plot.addItem(self.near_line)
        self.buffers = SeriesBuffers()
        self.distance_curve = ChunkedCurve(self.distance_plot, pg.mkPen(theme.ACCENT, width=1))
        self.pulse_distance_curve = ChunkedCurve(
            self.distance_plot, pg.mkPen(theme.ON, width=3), downsample=False, z=1.0
        )
        # Off-target pulses in the off-target colour, as in the coil panel, the band and the review.
        self.pulse_off_curve = ChunkedCurve(self.distance_plot, pg.mkPen(theme.OFF, width=3),
                                            downsample=False, z=1.5)
        self.pulse_off_dots = ChunkedCurve(  # a lone off-target pulse shows too
            self.distance_plot, None, downsample=False, z=1.6,
            symbol="o", symbolSize=6, symbolPen=None, symbolBrush=theme.OFF,
        )
        self.mso_curve = ChunkedCurve(self.intensity_plot, pg.mkPen(theme.MUTED, width=1))
        self.pulse_mso_curve = ChunkedCurve(
            self.intensity_plot, pg.mkPen(theme.INTENSITY, width=4), downsample=False, z=1.0
        )
        self._x_max = 0.0
        self._d_max = 0.0
        self._m_range = (0.0, 0.0)
        self.set_session_frame(planned_s=None, tol_mm=3.0, prescribed_mso=None)

    # -- ranges ----------------------------------------------------------------
    def set_session_frame(self, planned_s: float | None, tol_mm: float, prescribed_mso: int | None) -> None:
        """Fix the axes for a session: its planned length, the tolerance, the prescribed intensity."""
        self.tol_line.setValue(tol_mm)
        self.near_line.setValue(2 * tol_mm)
        self._x_max = max(1.0, (planned_s or 600.0) / 60.0 * 1.02)
        self.distance_plot.setXRange(0, self._x_max, padding=0)
        self._d_max = max(2.5 * tol_mm, 1.0)  # the tolerance and twice it, with room above
        self.distance_plot.setYRange(0, self._d_max, padding=0)
        centre = prescribed_mso if prescribed_mso is not None else 60
        self._m_range = (max(0.0, centre - 15.0), min(100.0, centre + 15.0))
        self.intensity_plot.setYRange(*self._m_range, padding=0)

    def _grow_ranges(self, points: list[SeriesPoint]) -> None:
        """Widen an axis in coarse steps when data leaves it (rare: a full redraw then is fine)."""
        x_last = points[-1].t_s / 60.0
        if x_last > self._x_max:
            self._x_max = _stepped(x_last * 1.15, 1.0)
            self.distance_plot.setXRange(0, self._x_max, padding=0)
        d = [p.distance_mm for p in points if p.distance_mm is not None]
        if d and max(d) > self._d_max:
            self._d_max = _stepped(max(d) * 1.2, 5.0)
            self.distance_plot.setYRange(0, self._d_max, padding=0)
        m = [p.mso for p in points if p.mso is not None]
        if m and (min(m) < self._m_range[0] or max(m) > self._m_range[1]):
            low = max(0.0, min(self._m_range[0], _stepped(min(m) - 10, 5.0)))
            high = min(100.0, max(self._m_range[1], _stepped(max(m) + 5, 5.0)))
            self._m_range = (low, high)
            self.intensity_plot.setYRange(low, high, padding=0)

    # -- data ------------------------------------------------------------------
    def append(self, points: list[SeriesPoint]) -> None:
        """Take new points and redraw only the curves' live tails."""
        if not points:
            return
        self._grow_ranges(points)
        b = self.buffers
        b.append(points)
        self.distance_curve.extend_to(b.t.view(), b.distance.view())
        self.mso_curve.extend_to(b.t.view(), b.mso.view())
        if b.pulse_t.size:
            self.pulse_distance_curve.extend_to(b.pulse_t.view(), b.pulse_distance.view())
            self.pulse_off_curve.extend_to(b.pulse_t.view(), b.pulse_off_distance.view())
        if b.off_t.size:
            self.pulse_off_dots.extend_to(b.off_t.view(), b.off_distance.view())
            self.pulse_mso_curve.extend_to(b.pulse_t.view(), b.pulse_mso.view())

    def clear(self) -> None:
        self.buffers = SeriesBuffers()
        for curve in (self.distance_curve, self.pulse_distance_curve, self.pulse_off_curve,
                      self.pulse_off_dots, self.mso_curve, self.pulse_mso_curve):
            curve.clear()
