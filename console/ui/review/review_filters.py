"""The filter bar of the review list: review state, dates, technician, patient, protocol, status,
flag, search.

It only builds a console.review.queue.ReviewFilter; every change emits
``filter_changed`` (typing in the search box waits for a short pause, so
the list is not re-run on every key).
"""

from __future__ import annotations

import logging
from datetime import date

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDateEdit, QLabel, QLineEdit, QWidget

from console.review.flags import FlagConfig
from console.review.queue import ANY_FLAG, NO_FLAG, ReviewFilter
from console.ui.widgets.qt_dates import edited_date
from console.ui.widgets.screen_fit import FlowLayout

log = logging.getLogger(__name__)

REVIEW_WORDS = {"unsigned": "To review (unsigned)", "signed": "Signed", "all": "All sessions"}
ANY = "Any"
SEARCH_PAUSE_MS = 300


def _combo(parent: QWidget, name: str, items: list[tuple[str, str | None]]) -> QComboBox:
    box = QComboBox(parent)
    box.setAccessibleName(name)
    for text, value in items:
        box.addItem(text, value)
    return box


def _date_edit(parent: QWidget, name: str) -> QDateEdit:
    edit = QDateEdit(parent)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setAccessibleName(name)
    edit.setDate(QDate.currentDate())
    return edit


class ReviewFilterBar(QWidget):
    filter_changed = Signal(object)
    """The new ReviewFilter (sort left as it was: the list keeps its order)."""

    def __init__(self, config: FlagConfig, choices: dict[str, list[str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review = _combo(self, "Review state", [(w, k) for k, w in REVIEW_WORDS.items()])
        self.use_dates = QCheckBox("From", self)
        self.date_from = _date_edit(self, "From date")
        self.date_to = _date_edit(self, "To date")
        self.date_from.setDate(QDate.currentDate().addDays(-30))
        self.technician = _combo(self, "Technician", [])
        self.protocol = _combo(self, "Protocol", [])
        self.status = _combo(self, "Status", [])
        self.flag = _combo(self, "Flag", [(ANY, None), ("Any problem", ANY_FLAG), ("No problem", NO_FLAG)]
                           + [(r.label, r.code) for r in config.rules])
        self.patient = QLineEdit(self)
        self.patient.setPlaceholderText("Clinic id")
        self.patient.setAccessibleName("Search clinic id")
        self.patient.setClearButtonEnabled(True)
        self.set_choices(choices)
        # The filters wrap onto a second line on a narrow screen instead of widening the window (issue 20).
        layout = FlowLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("", self.review), ("", self.use_dates), ("", self.date_from),
                              ("to", self.date_to), ("Technician", self.technician),
                              ("Protocol", self.protocol), ("Status", self.status), ("Flag", self.flag),
                              ("Patient", self.patient)):
            layout.add_pair(*((QLabel(label, self), widget) if label else (widget,)))
        self._sort = ("problems", True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_PAUSE_MS)
        self._search_timer.timeout.connect(self._changed)
        for box in (self.review, self.technician, self.protocol, self.status, self.flag):
            box.currentIndexChanged.connect(self._changed)
        self.use_dates.toggled.connect(self._dates_toggled)
        self.date_from.dateChanged.connect(self._dates_changed)
        self.date_to.dateChanged.connect(self._dates_changed)
        self.patient.textChanged.connect(lambda _t: self._search_timer.start())
        self.patient.returnPressed.connect(self._changed)
        self._dates_toggled(False)

    def set_choices(self, choices: dict[str, list[str]]) -> None:
        """Refill technicians, protocols and statuses (keeping the current choice when still there)."""
        boxes = ((self.technician, "technician"), (self.protocol, "protocol"), (self.status, "status"))
        for box, key in boxes:
            current = box.currentData()
            box.blockSignals(True)
            box.clear()
            box.addItem(ANY, None)
            for value in choices.get(key, []):
                box.addItem(value, value)
            found = box.findData(current)
            box.setCurrentIndex(found if found >= 0 else 0)
            box.blockSignals(False)

    def _dates_toggled(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)
        self._changed()

    def _dates_changed(self) -> None:
        if self.use_dates.isChecked():
            self._changed()

    def _changed(self) -> None:
        self.filter_changed.emit(self.current())

    def keep_sort(self, key: str, descending: bool) -> None:
        self._sort = (key, descending)

    def current(self) -> ReviewFilter:
        def day(edit: QDateEdit) -> date | None:
            if not self.use_dates.isChecked():
                return None
            return edited_date(edit)

        search = self.patient.text().strip() or None
        return ReviewFilter(
            review=self.review.currentData() or "unsigned",
            date_from=day(self.date_from), date_to=day(self.date_to),
            technician=self.technician.currentData(), protocol=self.protocol.currentData(),
            status=self.status.currentData(), flag=self.flag.currentData(), search=search,
            sort=self._sort[0], descending=self._sort[1],
        )
