"""Dates and times between Python and Qt's date editors, typed.

PySide6 converts ``datetime`` to and from ``QDateTime`` at run time, but its
type stubs say ``toPython()`` returns ``object`` and know no ``QDateTime(datetime)``;
these helpers make the conversion explicit so the type checker can follow it.
"""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QDate, QDateTime, QTime
from PySide6.QtWidgets import QDateEdit, QDateTimeEdit


def to_qdatetime(value: datetime) -> QDateTime:
    """``value`` as the local date and time an editor shows (an aware time is turned to local first)."""
    local = value.astimezone() if value.tzinfo is not None else value
    return QDateTime(QDate(local.year, local.month, local.day),
                     QTime(local.hour, local.minute, local.second, local.microsecond // 1000))


def edited_datetime(edit: QDateTimeEdit) -> datetime:
    """The editor's date and time, naive local (as a person at the chair means it)."""
    value = edit.dateTime().toPython()
    if not isinstance(value, datetime):
        raise TypeError(f"{type(edit).__name__} gave {value!r}, not a date and time")
    return value


def edited_date(edit: QDateEdit) -> date:
    """The editor's date."""
    value = edit.date().toPython()
    if not isinstance(value, date):
        raise TypeError(f"{type(edit).__name__} gave {value!r}, not a date")
    return value
