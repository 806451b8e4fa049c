"""The course view: sessions in order (pulses, on-target share, flags, sign-off), MT history, PHQ-9 chart.

Three plots over the course and the session table. Pulses per session are
bars against the plan; the on-target share per session is a line with the
clinic's minimum; motor thresholds are steps over the dates they held; the
PHQ-9 chart has the response line (50 % of baseline) and the remission line.
Double-clicking a session shows it in the review window.
"""

from __future__ import annotations

import logging

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QLabel,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.review.course_view import CourseView, course_view, epoch
from console.review.flags import flag_config
from console.store import Store
from console.ui.review.review_queue import cell_text
from console.ui.widgets import theme

log = logging.getLogger(__name__)

TABLE_COLUMNS = (("Session", "session"), ("Started", "started"), ("Status", "status"), ("Pulses", "pulses"),
                 ("On target", "on_target"), ("Flags", "flags"), ("Review", "review"))


def _plot(title: str, left: str, date_axis: bool = False) -> pg.PlotWidget:
    axis = {"bottom": pg.DateAxisItem()} if date_axis else {}
    w = pg.PlotWidget(background=theme.PANEL, axisItems=axis)
    item = w.getPlotItem()
    item.setTitle(title, color=theme.TEXT, size="11pt")
    item.setLabel("left", left)
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setMouseEnabled(x=False, y=False)
    item.hideButtons()
    w.setMinimumHeight(200)
    return w


def _hline(plot: pg.PlotWidget, y: float, colour: str, style: Qt.PenStyle, label: str,
           at: float = 0.02) -> None:
    """A horizontal reference line with its label above it, ``at`` a fraction along the axis."""
    options = {"position": at, "color": colour, "anchors": [(0, 1), (0, 1)]}
    line = pg.InfiniteLine(pos=y, angle=0, pen=pg.mkPen(colour, width=1.5, style=style), label=label,
                           labelOpts=options)
    plot.addItem(line)


class CourseViewWidget(QWidget):
    session_chosen = Signal(int)

    def __init__(self, view: CourseView, on_target_min: float = 95.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        layout = QVBoxLayout(self)
        title = QLabel(view.title(), self)
        title.setObjectName("screenTitle")
        c = view.course
        sub = QLabel(f"Course {c['id']} · {c['status']} · opened {c['opened_at'][:10]} · "
                     f"{view.pulses_delivered:,} pulses delivered · {view.signed} of {len(view.sessions)} "
                     f"sessions signed · {view.phq9_words()}", self)
        sub.setObjectName("hint")
        sub.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(sub)
        grid = QGridLayout()
        self.pulses = self._pulses_plot()
        self.share = self._share_plot(on_target_min)
        self.mt = self._mt_plot()
        self.phq = self._phq_plot()
        grid.addWidget(self.pulses, 0, 0)
        grid.addWidget(self.share, 0, 1)
        grid.addWidget(self.mt, 1, 0)
        grid.addWidget(self.phq, 1, 1)
        layout.addLayout(grid, 3)
        self.table = self._table()
        layout.addWidget(self.table, 2)

    def _numbers(self) -> np.ndarray:
        return np.array([s.number_in_course or i + 1 for i, s in enumerate(self.view.sessions)], dtype=float)

    def _pulses_plot(self) -> pg.PlotWidget:
        w = _plot("Pulses per session", "pulses")
        x = self._numbers()
        delivered = np.array([s.pulses_delivered for s in self.view.sessions], dtype=float)
        planned = np.array([s.pulses_planned or 0 for s in self.view.sessions], dtype=float)
        if len(x):
            w.addItem(pg.BarGraphItem(x=x, height=planned, width=0.8, brush=theme.qcolor(theme.GRID),
                                      pen=pg.mkPen(theme.MUTED)))
            short = delivered < planned
            colours = [theme.qcolor(theme.OFF if s else theme.ACCENT) for s in short]
            w.addItem(pg.BarGraphItem(x=x, height=delivered, width=0.6, brushes=colours, pen=pg.mkPen(None)))
        w.getPlotItem().setLabel("bottom", "session")
        return w

    def _share_plot(self, minimum: float) -> pg.PlotWidget:
        w = _plot("On target per session", "% of recorded pulses")
        x = self._numbers()
        share = np.array([np.nan if s.on_target_share is None else 100 * s.on_target_share
                          for s in self.view.sessions], dtype=float)
        w.plot(x, share, pen=pg.mkPen(theme.ON, width=2), symbol="o", symbolSize=6, symbolBrush=theme.ON,
               connect="finite")
        _hline(w, minimum, theme.NEAR, Qt.PenStyle.DashLine, f"minimum {minimum:g} %")
        low = np.nanmin(share) if np.isfinite(share).any() else minimum
        w.setYRange(min(low, minimum) - 5, 101)
        w.getPlotItem().setLabel("bottom", "session")
        return w

    def _mt_plot(self) -> pg.PlotWidget:
        w = _plot("Motor threshold", "% MSO", date_axis=True)
        mts = self.view.thresholds
        if mts:
            t = [epoch(m.measured_at) for m in mts]
            last = epoch(self.view.sessions[-1].started_at) if self.view.sessions else t[-1]
            ends = [*t[1:], max(t[-1], last)]
            xs, ys = [], []
            for start, end, m in zip(t, ends, mts, strict=True):
                xs += [start, end]
                ys += [m.mso, m.mso]
            w.plot(xs, ys, pen=pg.mkPen(theme.INTENSITY, width=2))
            w.plot(t, [m.mso for m in mts], pen=None, symbol="s", symbolSize=7, symbolBrush=theme.INTENSITY)
            values = [m.mso for m in mts]
            w.setYRange(min(values) - 5, max(values) + 5)
        return w

    def _phq_plot(self) -> pg.PlotWidget:
        w = _plot("PHQ-9", "score", date_axis=True)
        o = self.view.phq9
        if o.series:
            t = [epoch(p.taken_at) for p in o.series]
            w.plot(t, [p.total for p in o.series], pen=pg.mkPen(theme.ACCENT, width=2), symbol="o",
                   symbolSize=6, symbolBrush=theme.ACCENT)
        if o.response_threshold is not None:
            _hline(w, o.response_threshold, theme.ON, Qt.PenStyle.DashLine,
                   f"response ≤ {o.response_threshold:g}")
        if o.remission_at_most is not None:
            # As on the handoff note: the line at 5, remission below it (PHQ-9 of 4 or less).
            _hline(w, o.remission_at_most + 1, theme.NEAR, Qt.PenStyle.DotLine,
                   f"remission < {o.remission_at_most + 1}", at=0.8)
        w.setYRange(0, 27)
        return w

    def _table(self) -> QTableWidget:
        rows = self.view.sessions
        table = QTableWidget(len(rows), len(TABLE_COLUMNS), self)
        table.setHorizontalHeaderLabels([c[0] for c in TABLE_COLUMNS])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        for r, row in enumerate(rows):
            for c, (_, key) in enumerate(TABLE_COLUMNS):
                item = QTableWidgetItem(cell_text(row, key))
                item.setData(Qt.ItemDataRole.UserRole, row.id)
                if key == "flags" and row.flags:
                    item.setForeground(theme.qcolor(theme.NEAR))
                if key == "review":
                    item.setForeground(theme.qcolor(theme.ON if row.signed else theme.MUTED))
                table.setItem(r, c, item)
        table.resizeColumnsToContents()
        table.itemDoubleClicked.connect(self._chosen)
        return table

    def _chosen(self, item: QTableWidgetItem) -> None:
        self.session_chosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))


class CourseWindow(QMainWindow):
    """The course view in its own window (opened from a session's detail)."""

    session_chosen = Signal(int)

    def __init__(self, db: Store, course_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        view = course_view(db, course_id)
        self.setWindowTitle(f"Course — {view.patient['clinic_id']} — TMS Session Console")
        self.resize(1400, 900)
        self.widget = CourseViewWidget(view, flag_config(db).on_target_min_percent, self)
        self.widget.session_chosen.connect(self.session_chosen)
        self.setCentralWidget(self.widget)
