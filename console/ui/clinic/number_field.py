"""A number typed as text, kept exactly as typed, with its problem in words.

Qt's spin boxes clamp or drop keys silently: "500" in a box that stops at 200 becomes
"50", "-20" becomes "20", and the form goes on as if the person had typed that. A
prescription must never change without a word, so the clinic's forms use this field:
what is typed stays on screen, and a value outside the allowed range is refused with a
message that names the range (the form shows it and will not save).
"""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLineEdit, QWidget


def _number(low: float, whole: bool) -> str:
    return f"{int(low)}" if whole or float(low).is_integer() else f"{low:g}"


class NumberField(QLineEdit):
    """``value()`` is the number typed, or None while :meth:`problem` says what is wrong."""

    def __init__(
        self,
        what: str,
        low: float,
        high: float,
        *,
        unit: str = "",
        whole: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.what = what
        self.unit = unit
        self.whole = whole
        self.low, self.high = low, high
        self.setAccessibleName(what[:1].upper() + what[1:])

    def set_range(self, low: float, high: float) -> None:
        """A new allowed range (e.g. another instrument's); what is typed is kept, and judged anew."""
        self.low, self.high = low, high
        self.textChanged.emit(self.text())

    def range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"from {_number(self.low, self.whole)} to {_number(self.high, self.whole)}{unit}"

    def setValue(self, value: float) -> None:
        self.setText(_number(value, self.whole) if self.whole else f"{value:g}")

    def _parsed(self) -> float | None:
        text = self.text().strip()
        if self.unit:
            text = text.removesuffix(self.unit).strip()
        text = text.rstrip("%").strip().replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None

    def problem(self) -> str | None:
        """Why what is typed cannot be used (None: it can)."""
        what = self.what[:1].upper() + self.what[1:]
        kind = "a whole number" if self.whole else "a number"
        number = self._parsed()
        if number is None:
            if not self.text().strip():
                return f"Enter {self.what}: {kind} {self.range_text()}."
            return f"{what} must be {kind} {self.range_text()}; “{self.text().strip()}” is not a number."
        if self.whole and not number.is_integer():
            return f"{what} must be {kind} {self.range_text()}; {self.text().strip()} is not."
        if not self.low <= number <= self.high:
            return f"{what} must be {self.range_text()}; {self.text().strip()} is outside that range."
        return None

    def value(self) -> float | None:
        """The number typed, when it is allowed; None otherwise (never a clamped number)."""
        return None if self.problem() is not None else self._parsed()
