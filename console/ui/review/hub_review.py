"""The review station's list of every chair's sessions, read from the clinic hub (issue 18).

The same queue as a chair's own review (problems first, the same flags, console.review.hub_queue),
with the chair and its site as columns and filters. Every read and the sign-off go through
:class:`~console.ui.review.hub_worker.HubWorker`: the window never waits on the network, and a hub
out of reach is one line above the list, the list kept as last read.

A sign-off made here is kept at the hub (``hub_signoffs``) and goes back to the chair that recorded
the session on its next sync; the signer types their own password, checked against this station's
accounts.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.people.permissions import allowed
from console.people.user import User
from console.review.flags import FlagConfig
from console.review.hub_queue import HubChoices, HubQueueRow, HubReviewFilter, HubReviewList
from console.ui.review.review_queue import COLUMNS as QUEUE_COLUMNS
from console.ui.review.review_queue import QUEUE_STYLE, SEVERE, cell_text
from console.ui.review.signoff_dialog import MEANING_WORDS
from console.ui.widgets import theme

log = logging.getLogger(__name__)

PAGE = 200
# (header, what the cell shows, tooltip): a chair's review columns, with the chair and its site.
_CHAIR_COLUMNS = {key: (header, key, tip) for header, key, tip in QUEUE_COLUMNS}
_HUB_ONLY = {"chair": ("Chair", "chair", "The chair that recorded the session"),
             "site": ("Site", "site", "Where that chair stands")}
COLUMNS: tuple[tuple[str, str, str], ...] = tuple(
    _HUB_ONLY.get(key) or _CHAIR_COLUMNS[key]
    for key in ("patient", "session", "flags", "chair", "site", "started", "status", "review", "pulses",
                "on_target", "technician"))
WIDTHS = (150, 80, 215, 100, 105, 165, 100, 200, 100, 95, 120)
ALL = ""


def hub_cell_text(row: HubQueueRow, column: str) -> str:
    if column == "chair":
        return row.chair_words
    if column == "site":
        return row.site or "—"
    return cell_text(row, column)


class HubQueueModel(QAbstractTableModel):
    """The rows of one hub list; pages are read on the worker as they scroll into view."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.listed: HubReviewList | None = None
        self.pages: dict[int, list[HubQueueRow]] = {}
        self.wanted: set[int] = set()
        self.page_wanted: Any = None
        """Called with a page number the view needs and the model does not hold (set by the page)."""

    def show_list(self, listed: HubReviewList, first_page: list[HubQueueRow]) -> None:
        self.beginResetModel()
        self.listed = listed
        self.pages = {0: first_page}
        self.wanted.clear()
        self.endResetModel()

    def add_page(self, listed: HubReviewList, page: int, rows: list[HubQueueRow]) -> None:
        if listed is not self.listed:
            return  # a page of a list no longer shown
        self.pages[page] = rows
        self.wanted.discard(page)
        first = page * PAGE
        self.dataChanged.emit(self.index(first, 0),
                              self.index(min(first + PAGE, len(listed)) - 1, len(COLUMNS) - 1))

    def row_at(self, row: int) -> HubQueueRow | None:
        if self.listed is None or not 0 <= row < len(self.listed):
            return None
        page = row // PAGE
        rows = self.pages.get(page)
        if rows is None:
            if page not in self.wanted and self.page_wanted is not None:
                self.wanted.add(page)
                self.page_wanted(page)
            return None
        offset = row - page * PAGE
        return rows[offset] if offset < len(rows) else None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.listed is None else len(self.listed)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][2] or None
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row = self.row_at(index.row())
        column = COLUMNS[index.column()][1]
        if row is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole else None
        if role == Qt.ItemDataRole.DisplayRole:
            return hub_cell_text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole and column == "flags" and row.flags:
            return "\n".join(row.flags)  # the whole list, where the column cuts it
        if role == Qt.ItemDataRole.ToolTipRole and column == "review" and row.signatures:
            return "\n".join(s.words() + (f" — {s.comment}" if s.comment else "") for s in row.signatures)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._colour(row, column)
        return None

    def _colour(self, row: HubQueueRow, column: str) -> QColor | None:
        assert self.listed is not None
        if column == "flags" and row.mask:
            heavy = max(r.weight for r in self.listed.config.rules_in(row.mask))
            return QColor(theme.OFF if heavy >= SEVERE else theme.NEAR)
        if column == "review":
            return QColor(theme.ON if row.signed else theme.MUTED)
        if column == "status" and row.status != "completed":
            return QColor(theme.NEAR)
        return None


class HubReviewPage(QWidget):
    """Filters, the list of every chair's sessions, and Sign off for the chosen one."""

    list_shown = Signal(int)
    """Rows in the list just shown (for tests and the status line)."""

    def __init__(self, conninfo: str, station_path: Path, station: str, user: User,
                 config: FlagConfig, parent: QWidget | None = None) -> None:
        from console.ui.review.hub_worker import HubWorker  # psycopg only when a hub is set up

        super().__init__(parent)
        self.setAccessibleName("All chairs")
        self.user, self.station, self.config = user, station, config
        self.worker = HubWorker(conninfo, station_path, self)
        self.filter = HubReviewFilter()
        self.model = HubQueueModel(self)
        self.model.page_wanted = self._read_page
        self._asked = 0  # the number of the latest list asked for: older answers are dropped
        self.done_words = ""  # what the last sign-off made here was, until another session is chosen

        self.review = self._combo("Review", [("Not signed", "unsigned"), ("Signed", "signed"),
                                             ("All", "all")])
        self.chair = self._combo("Chair", [("All chairs", ALL)])
        self.site = self._combo("Site", [("All sites", ALL)])
        self.flag = self._combo("Flag", [("Any or none", ALL), ("Any flag", "any"), ("No flag", "none"),
                                         *((r.label, r.code) for r in config.rules)])
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Clinic id")
        self.search.setAccessibleName("Search clinic id")
        self.search.returnPressed.connect(self.reload)
        self.refresh = QPushButton("Refresh", self)
        self.refresh.clicked.connect(self.reload)
        bar = QHBoxLayout()
        for label, widget in (("Review", self.review), ("Chair", self.chair), ("Site", self.site),
                              ("Flag", self.flag), ("Search", self.search)):
            bar.addWidget(QLabel(label, self))
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.refresh)

        self.state = QLabel("Reading the hub …", self)
        self.state.setObjectName("hint")
        self.state.setWordWrap(True)
        self.table = QTableView(self)
        self.table.setObjectName("hubQueue")
        self.table.setStyleSheet(QUEUE_STYLE)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate(WIDTHS):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._chosen)

        self.chosen = QLabel("Choose a session to sign it off.", self)
        self.chosen.setWordWrap(True)
        self.sign = QPushButton("Sign off…", self)
        self.sign.setEnabled(False)
        self.sign.clicked.connect(self.open_sign_off)
        self.sign.setVisible(allowed(user, "sign_session"))
        foot = QHBoxLayout()
        foot.addWidget(self.chosen, 1)
        foot.addWidget(self.sign)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.state)
        layout.addWidget(self.table, 1)
        layout.addLayout(foot)
        for combo in (self.review, self.chair, self.site, self.flag):
            combo.currentIndexChanged.connect(self.reload)
        self._read_choices()
        self.reload()

    def _combo(self, name: str, items: list[tuple[str, str]]) -> QComboBox:
        combo = QComboBox(self)
        combo.setAccessibleName(name)
        for text, value in items:
            combo.addItem(text, value)
        return combo

    # --- reading -------------------------------------------------------------------------------
    def current_filter(self) -> HubReviewFilter:
        def value(combo: QComboBox) -> str | None:
            return str(combo.currentData()) or None

        return replace(self.filter, review=value(self.review) or "unsigned", chair=value(self.chair),
                       site=value(self.site), flag=value(self.flag),
                       search=self.search.text().strip() or None)

    def reload(self) -> None:
        """Ask the hub for the list as filtered now; the answer replaces the list when it comes."""
        from console.review.hub_queue import hub_find_sessions, hub_rows_for

        f = self.current_filter()
        config = self.config
        self._asked += 1
        asked = self._asked
        began = time.perf_counter()

        def job(conn: Any, _station: Any) -> tuple[HubReviewList, list[HubQueueRow]]:
            listed = hub_find_sessions(conn, f, config)
            return listed, hub_rows_for(conn, listed, 0, PAGE)

        def done(result: Any, error: BaseException | None) -> None:
            if asked != self._asked:
                return
            if error is not None:
                self._problem(error)
                return
            listed, rows = result
            self.model.show_list(listed, rows)
            ms = (time.perf_counter() - began) * 1000
            self.state.setText(f"{len(listed)} session(s) from {self._chair_count()} · read in {ms:.0f} ms")
            self._chosen(self.table.currentIndex(), QModelIndex())
            self.list_shown.emit(len(listed))

        self.state.setText("Reading the hub …")
        self.worker.submit(job, done)

    def _chair_count(self) -> str:
        """Where the listed sessions come from: the chosen chair, the chosen site, or how many chairs."""
        if self.chair.currentData():
            return self.chair.currentText()
        if self.site.currentData():
            return f"the chairs at {self.site.currentText()}"
        return f"{self.chair.count() - 1} chair(s)"

    def _read_page(self, page: int) -> None:
        from console.review.hub_queue import hub_rows_for

        listed = self.model.listed
        if listed is None:
            return

        def done(result: Any, error: BaseException | None) -> None:
            if error is not None:
                self.model.wanted.discard(page)
                self._problem(error)
                return
            self.model.add_page(listed, page, result)

        self.worker.submit(lambda conn, _s: hub_rows_for(conn, listed, page * PAGE, (page + 1) * PAGE), done)

    def _read_choices(self) -> None:
        from console.review.hub_queue import hub_choices

        def done(result: Any, error: BaseException | None) -> None:
            if error is not None:
                self._problem(error)
                return
            self._fill_choices(result)

        self.worker.submit(lambda conn, _s: hub_choices(conn), done)

    def _fill_choices(self, choices: HubChoices) -> None:
        for combo, items in ((self.chair, [(name or f"chair {origin[:8]}", origin)
                                           for origin, name, _site in choices.chairs]),
                             (self.site, [(site, site) for site in choices.sites])):
            combo.blockSignals(True)
            keep = combo.currentData()
            while combo.count() > 1:
                combo.removeItem(1)
            for text, value in items:
                combo.addItem(text, value)
            combo.setCurrentIndex(max(0, combo.findData(keep)))
            combo.blockSignals(False)

    def _problem(self, error: BaseException) -> None:
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        log.info("hub review: %s", text)
        self.state.setText(f"{text} The list below is as last read." if self.model.listed is not None
                           else text)

    # --- sign-off ------------------------------------------------------------------------------
    def chosen_row(self) -> HubQueueRow | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def _chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.row_at(current.row()) if current.isValid() else None
        if row is None:
            self.chosen.setText(self.done_words or "Choose a session to sign it off.")
            self.sign.setEnabled(False)
            return
        flags = "; ".join(row.flags) if row.flags else "no flags"
        self.chosen.setText(f"<b>{row.clinic_id} ({row.initials})</b>, session "
                            f"{hub_cell_text(row, 'session')} at {row.chair_words}, "
                            f"{hub_cell_text(row, 'started')}: {flags}. {row.review_words}.")
        self.sign.setEnabled(True)

    def open_sign_off(self) -> None:
        row = self.chosen_row()
        if row is None:
            return
        from console.ui.review.hub_signoff_dialog import HubSignOffDialog

        dialog = HubSignOffDialog(self, row)
        dialog.signed.connect(lambda _uuid: self._signed(row, dialog.meanings.meaning))
        dialog.open()

    def _signed(self, row: HubQueueRow, meaning: str) -> None:
        self.reload()
        self.done_words = (f"Signed off ({meaning}): {row.clinic_id} ({row.initials}), session "
                           f"{hub_cell_text(row, 'session')} at {row.chair_words}. It goes to that chair at "
                           "its next exchange with the hub.")
        self.chosen.setText(self.done_words)

    def submit_sign_off(self, session_uuid: str, password: str, meaning: str, comment: str,
                        done: Any) -> None:
        """Sign on the worker (the password check and the hub's write); ``done(result, error)`` after."""
        from console.review.hub_signoff import sign_at_hub

        user, station = self.user, self.station
        def job(conn: Any, station_db: Any) -> Any:
            return sign_at_hub(conn, station_db, user, session_uuid, password, meaning, comment,
                               station=station)

        self.worker.submit(job, done)

    def shutdown(self) -> None:
        self.worker.close()


__all__ = ["MEANING_WORDS", "HubQueueModel", "HubReviewPage", "hub_cell_text"]
