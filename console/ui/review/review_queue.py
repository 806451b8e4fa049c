"""The review list as a table: a QAbstractTableModel over console.review.queue, and its view.

The model holds only the ordered ids and flag masks of the list
(console.review.queue.find_sessions), so its row count is exact and a clinic-year
of sessions opens at once; the shown columns are fetched a page at a time
as rows scroll into view. Clicking a header sorts in the database (any
column); the Flags column sorts problems first.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from console.review.flags import flag_reasons
from console.review.queue import QueueRow, ReviewFilter, ReviewList, find_sessions, local_words, rows_for
from console.store import Store
from console.ui.widgets import theme
from console.ui.widgets.formatting import DASH, clock

log = logging.getLogger(__name__)

PAGE = 200
# (header, sort key, tooltip)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Flags", "flags", "What to look at, most serious first (click to sort problems first)"),
    ("Started", "started", "When the session started (local time)"),
    ("Patient", "patient", "Clinic id (initials)"),
    ("Session", "session", "Session number in the course"),
    ("Status", "status", "How the session ended"),
    ("Review", "review", "Sign-off: meaning, by whom, when"),
    ("Pulses", "pulses", "Delivered / planned"),
    ("On target", "on_target", "Share of the recorded pulses on target"),
    ("Technician", "technician", ""),
    ("Protocol", "protocol", ""),
    ("Duration", "duration", ""),
)
WIDTHS = (215, 165, 125, 80, 100, 330, 100, 95, 140, 190, 85)
QUEUE_STYLE = ("QTableView { background: #141a20; alternate-background-color: #182028; "
               "selection-background-color: #3b6ea5; border: 1px solid #2f3a45; gridline-color: #232b34; }")
"""A review list's table on the dark theme (its alternate rows stay dark: light text stays readable)."""
SEVERE = 50  # a flag weight from which the row is marked as an alarm rather than a warning
_QRole = Qt.ItemDataRole


class ReviewQueueModel(QAbstractTableModel):
    """Rows of one review list; :meth:`set_filter` runs a new query, :meth:`sort` re-sorts in SQL."""

    list_loaded = Signal(int, float)
    """Rows in the list, and the milliseconds the query took."""

    def __init__(self, db: Store, parent: Any = None) -> None:
        super().__init__(parent)
        self.db = db
        self.filter = ReviewFilter()
        self.listed: ReviewList | None = None
        self._pages: dict[int, list[QueueRow]] = {}
        self._tips: dict[int, str] = {}

    # --- loading ------------------------------------------------------------------------------
    def set_filter(self, f: ReviewFilter) -> None:
        self.filter = f
        self.reload()

    def reload(self) -> None:
        started = time.perf_counter()
        listed = find_sessions(self.db, self.filter)
        self.beginResetModel()
        self.listed = listed
        self._pages.clear()
        self._tips.clear()
        self.endResetModel()
        ms = (time.perf_counter() - started) * 1000
        log.debug("review list: %d rows in %.0f ms", len(listed), ms)
        self.list_loaded.emit(len(listed), ms)

    def row_at(self, row: int) -> QueueRow | None:
        if self.listed is None or not 0 <= row < len(self.listed):
            return None
        page = row // PAGE
        if page not in self._pages:
            self._pages[page] = rows_for(self.db, self.listed, page * PAGE, (page + 1) * PAGE)
        rows = self._pages[page]
        offset = row - page * PAGE
        return rows[offset] if offset < len(rows) else None

    def session_id(self, row: int) -> int | None:
        if self.listed is None or not 0 <= row < len(self.listed):
            return None
        return self.listed.ids[row]

    def row_of(self, session_id: int) -> int | None:
        if self.listed is None:
            return None
        try:
            return self.listed.ids.index(session_id)
        except ValueError:
            return None

    def refresh_session(self, session_id: int) -> None:
        """One session changed (signed, an addendum): show its new state without re-running the list."""
        row = self.row_of(session_id)
        if row is None:
            return
        self._pages.pop(row // PAGE, None)
        self._tips.pop(session_id, None)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    # --- Qt model -----------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.listed is None else len(self.listed)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _QRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == _QRole.DisplayRole:
            return COLUMNS[section][0]
        if role == _QRole.ToolTipRole:
            return COLUMNS[section][2] or None
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _QRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        column = COLUMNS[index.column()][1]
        if role == _QRole.DisplayRole:
            return cell_text(row, column)
        if role == _QRole.ToolTipRole and column == "flags" and row.mask:
            return self._reasons(row)
        if role == _QRole.ToolTipRole and column == "review" and row.signatures:
            return "\n".join(s.words() + (f" — {s.comment}" if s.comment else "") for s in row.signatures)
        if role == _QRole.ForegroundRole:
            return self._colour(row, column)
        if role == _QRole.TextAlignmentRole and column in ("pulses", "on_target", "duration", "session"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == _QRole.UserRole:
            return row.id
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        key = COLUMNS[column][1]
        descending = order == Qt.SortOrder.DescendingOrder
        if key == self.filter.sort and descending == self.filter.descending and self.listed is not None:
            return
        self.filter = self.filter.with_sort(key, descending)
        if self.listed is not None:  # before the first list, only remember the order
            self.reload()

    # --- looks --------------------------------------------------------------------------------
    def _reasons(self, row: QueueRow) -> str:
        if row.id not in self._tips:
            assert self.listed is not None
            flags = flag_reasons(self.db, row.id, self.listed.config)
            self._tips[row.id] = "\n".join(f"{f.label}: {f.reason}" for f in flags)
        return self._tips[row.id]

    def _colour(self, row: QueueRow, column: str) -> QColor | None:
        if column == "flags" and row.mask:
            assert self.listed is not None
            heavy = max(r.weight for r in self.listed.config.rules_in(row.mask))
            return QColor(theme.OFF if heavy >= SEVERE else theme.NEAR)
        if column == "review":
            return QColor(theme.ON if row.signed else theme.MUTED)
        if column == "status" and row.status != "completed":
            return QColor(theme.NEAR)
        return None


def cell_text(row: QueueRow, column: str) -> str:
    """What one cell of the list says (also what the tests read)."""
    if column == "flags":
        return ", ".join(row.flags) if row.flags else "—"
    if column == "started":
        return local_words(row.started_at)
    if column == "patient":
        return f"{row.clinic_id} ({row.initials})"
    if column == "session":
        if row.number_in_course is None:
            return DASH
        return f"{row.number_in_course}" + (f"/{row.planned_sessions}" if row.planned_sessions else "")
    if column == "technician":
        return row.technician_name or row.technician or DASH
    if column == "protocol":
        return row.protocol or DASH
    if column == "status":
        return row.status
    if column == "pulses":
        if row.pulses_planned:
            return f"{row.pulses_delivered}/{row.pulses_planned}"
        return str(row.pulses_delivered)
    if column == "on_target":
        share = row.on_target_share
        return DASH if share is None else f"{100 * share:.1f} %"
    if column == "duration":
        return clock(row.duration_s)
    if column == "review":
        text = row.review_words
        return text + (f" · {row.addenda} addend{'a' if row.addenda > 1 else 'um'}" if row.addenda else "")
    raise KeyError(column)


class ReviewQueueView(QTableView):
    """The table: whole rows selected one at a time, header click sorts, problems first at start."""

    session_chosen = Signal(int)

    def __init__(self, model: ReviewQueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewQueue")
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(30)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.setSortingEnabled(True)
        for column, width in enumerate(WIDTHS):
            self.setColumnWidth(column, width)
        # Who comes first, whole: at 1280 px the Patient column was behind the scrollbar and cut to
        # "MRN-1003 (…" (issue 20 item 8; a wrong-patient choice is the risk). Only the shown order
        # changes: the model's columns (and sorting, and the CSV) stay as they are.
        keys = [c[1] for c in COLUMNS]
        for shown, key in enumerate(("patient", "session")):
            header.moveSection(header.visualIndex(keys.index(key)), shown)
        self._patient_column = keys.index("patient")
        model.list_loaded.connect(self._fit_patient_column)
        self.selectionModel().currentRowChanged.connect(self._current_changed)

    def _fit_patient_column(self) -> None:
        """The Patient column as wide as its widest shown entry (never narrower than set)."""
        column = self._patient_column
        self.setColumnWidth(column, max(WIDTHS[column], self.sizeHintForColumn(column)))

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        model = self.model()
        assert isinstance(model, ReviewQueueModel)
        sid = model.session_id(current.row()) if current.isValid() else None
        if sid is not None:
            self.session_chosen.emit(sid)

    def select_session(self, session_id: int) -> bool:
        model = self.model()
        assert isinstance(model, ReviewQueueModel)
        row = model.row_of(session_id)
        if row is None:
            return False
        self.selectRow(row)
        self.scrollTo(model.index(row, 0))
        return True
