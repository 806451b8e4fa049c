"""The supervisor's review workspace: filters, the list (problems first), the session's detail.

Reads go through the one database connection the window is given; each
list is one query (console.review.queue) and each session one read
(console.review.detail), both quick enough on a clinic-year database to run
on the GUI thread. Exports are checked against the user's permissions and
audited: a CSV of the list as filtered, the JSON of a session (the export
schema), a PDF report of a session with its plots.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from console.errors import ClinicError
from console.people.permissions import PermissionDenied, allowed, require
from console.people.user import User
from console.review.audited_export import (
    ExportError,
    export_review_list,
    export_session,
    record_report_written,
)
from console.review.detail import load_detail
from console.review.flags import flag_config
from console.review.queue import ReviewFilter, choices, tune_connection
from console.store import Store
from console.ui.note import save_place
from console.ui.review.review_filters import ReviewFilterBar
from console.ui.review.review_queue import COLUMNS, QUEUE_STYLE, ReviewQueueModel, ReviewQueueView
from console.ui.review.session_detail import SessionDetailWidget
from console.ui.widgets.screen_fit import fit_to_screen

log = logging.getLogger(__name__)

QUEUE_MIN_WIDTH = 420
"""Enough for the Patient, Session and Flags columns, which come first."""
DETAIL_MIN_WIDTH = 720
"""Enough for the session's buttons (Sign off…, Add addendum…, Course…, Export JSON…, PDF report…);
longer lines in the detail wrap."""


class ReviewWindow(QMainWindow):
    def __init__(self, db: Store, user: User | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.user = db, user
        tune_connection(db)
        self.setWindowTitle("Session review — TMS Session Console")
        fit_to_screen(self, QSize(1600, 950))
        self.config = flag_config(db)
        self.filters = ReviewFilterBar(self.config, choices(db), self)
        self.model = ReviewQueueModel(db, self)
        self.queue = ReviewQueueView(self.model, self)
        self.queue.setStyleSheet(QUEUE_STYLE)
        self.detail = SessionDetailWidget(db, user, self)
        self.count = QLabel("", self)
        self.count.setObjectName("hint")
        self.done = QLabel("", self)
        self.done.setObjectName("hint")
        self.done.setWordWrap(True)
        # A long path never widens the window: the label takes the room it is given.
        self.done.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.csv_button = QPushButton("Export list as CSV…", self)
        self.csv_button.setEnabled(allowed(user, "export_sessions"))
        refresh = QPushButton("Refresh", self)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addWidget(self.filters)
        row = QHBoxLayout()
        row.addWidget(self.count, 1)
        row.addWidget(self.done, 1)
        row.addWidget(refresh)
        row.addWidget(self.csv_button)
        layout.addLayout(row)
        split = self.split = QSplitter(Qt.Orientation.Horizontal, central)
        split.addWidget(self.queue)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        # Minimum widths of their own: without them the splitter follows each session's longest
        # line and moved under the cursor as sessions changed (issue 20, item 9).
        self.queue.setMinimumWidth(QUEUE_MIN_WIDTH)
        self.detail.setMinimumWidth(DETAIL_MIN_WIDTH)
        split.setChildrenCollapsible(False)
        split.setSizes([600, 1000])
        layout.addWidget(split, 1)
        self.setCentralWidget(central)
        self._courses: list[QWidget] = []
        self.model.list_loaded.connect(self._loaded)
        self.filters.filter_changed.connect(self.apply_filter)
        self.queue.session_chosen.connect(self.detail.show_session)
        self.detail.changed.connect(self.session_changed)
        self.detail.course_requested.connect(self.open_course)
        self.detail.export_json_requested.connect(self._ask_json)
        self.detail.report_requested.connect(self._ask_report)
        self.csv_button.clicked.connect(self._ask_csv)
        refresh.clicked.connect(self.refresh)
        self.model.set_filter(self.filters.current())
        if self.model.rowCount():
            self.queue.selectRow(0)

    # --- the list -------------------------------------------------------------------------------
    def apply_filter(self, f: ReviewFilter) -> None:
        current = self.model.filter
        try:
            self.model.set_filter(replace(f, sort=current.sort, descending=current.descending))
        except ClinicError as exc:
            self.count.setText(str(exc))

    def session_changed(self, session_id: int) -> None:
        """A session was signed or gained an addendum. Signing takes it out of "To review": the list
        is run again and the next session in it is shown, so the queue never shows signed work as
        still to do; in a list that still holds it, it stays chosen with its new state."""
        row = self.model.row_of(session_id)
        self.model.reload()
        if self.model.row_of(session_id) is not None:
            self.queue.select_session(session_id)
            return
        left = self.model.rowCount()
        if left:
            self.queue.selectRow(min(row or 0, left - 1))
        else:
            self.detail.clear("Nothing left to review in this list")

    def refresh(self) -> None:
        self.filters.set_choices(choices(self.db))
        self.model.reload()

    def _loaded(self, rows: int, ms: float) -> None:
        f = self.model.filter
        what = {"unsigned": "to review", "signed": "signed", "all": "in all"}[f.review]
        sort = next((c[0] for c in COLUMNS if c[1] == f.sort), "Flags")
        if f.sort in ("problems", "flags") and f.descending:
            sort += " (problems first)"
        plural = "s" if rows != 1 else ""
        self.count.setText(f"{rows} session{plural} {what} · sorted by {sort} · {ms:.0f} ms")

    # --- exports --------------------------------------------------------------------------------
    def export_csv(self, path: Path | str) -> int:
        """The list as filtered, as CSV at ``path``; returns the rows written. The domain audits it."""
        listed = self.model.listed
        if listed is None:
            return 0
        return export_review_list(self.db, listed, path, by=self.user)

    def export_json(self, session_id: int, path: Path | str) -> None:
        """The session as JSON at ``path``; the domain checks the permission and writes the audit row."""
        export_session(self.db, session_id, "json", by=self.user, path=path)

    def write_report(self, session_id: int, path: Path | str) -> int:
        """The PDF session report; returns its page count. The domain writes its audit row."""
        require(self.user, "view_records")
        from console.ui.review.session_report_pdf import write_report

        pages = write_report(load_detail(self.db, session_id), path)
        record_report_written(self.db, self.user, session_id, path, pages)
        return pages

    def _save_path(self, title: str, name: str, pattern: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, title, save_place.suggested_path(name), pattern)
        return Path(path) if path else None

    def _run(self, action: Callable[..., object], *args: object, done: str = "") -> bool:
        """Run an export; say where it went (``done``), or why it was not done."""
        try:
            action(*args)
        except (ClinicError, PermissionDenied, ExportError, OSError) as exc:
            QMessageBox.warning(self, "Not done", str(exc))
            return False
        if done:
            self.done.setText(done)
            self.done.setToolTip(done)
        return True

    def _ask_csv(self) -> None:
        path = self._save_path("Export the list", "review-list.csv", "CSV files (*.csv)")
        if path and self._run(self.export_csv, path, done=f"List saved as {path}"):
            save_place.remember(path)

    def _ask_json(self, session_id: int) -> None:
        path = self._save_path("Export the session", f"session-{session_id}.json", "JSON files (*.json)")
        if path and self._run(self.export_json, session_id, path, done=f"Session saved as {path}"):
            save_place.remember(path)

    def _ask_report(self, session_id: int) -> None:
        path = self._save_path("Save the session report", f"session-{session_id}-report.pdf",
                               "PDF files (*.pdf)")
        if path and self._run(self.write_report, session_id, path, done=f"Session report saved as {path}"):
            save_place.remember(path)

    # --- course ---------------------------------------------------------------------------------
    def open_course(self, course_id: int) -> QWidget:
        from console.ui.review.course_view import CourseWindow

        window = CourseWindow(self.db, course_id, self)
        window.session_chosen.connect(self._show_from_course)
        self._courses.append(window)
        window.show()
        return window

    def _show_from_course(self, session_id: int) -> None:
        if not self.queue.select_session(session_id):
            self.detail.show_session(session_id)
