"""The admin's clinic settings: every setting with its help text, checked, saved and audited.

What a setting means, its range and default come from the settings' definitions
(:func:`console.clinic.settings.definitions`); each change goes through
:func:`console.clinic.settings.change_setting`, which checks the person may change settings and
writes the audit row (who, when, old and new value). :class:`SettingsForm` is shared with the
first start's clinic set-up (:mod:`console.ui.clinic.clinic_setup`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.clinic.settings import all_settings, change_setting, definitions, validate
from console.errors import ClinicError, PermissionDenied
from console.people.user import User
from console.store import Store

log = logging.getLogger(__name__)


def editable_keys() -> list[str]:
    """The settings a clinic chooses (not marks the program puts on the file, like the demo mark)."""
    return [key for key, spec in definitions().items() if spec.get("admin_editable", True)]


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class SettingsForm(QWidget):
    """A field per setting, its help text under it and a line for its problem.

    :meth:`save` saves what changed and returns the keys saved; a value that is not allowed
    is named next to its field and nothing of it is saved.
    """

    saved = Signal(list)
    """The keys just saved."""

    def __init__(self, db: Store, user: User, keys: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._user = user
        self.specs = definitions()
        self.keys = [key for key in keys if key in self.specs]
        self.fields: dict[str, QLineEdit | QCheckBox] = {}
        self.problems: dict[str, QLabel] = {}
        # A grid, not a form layout: a wrapped help text under its field gets the height it needs
        # (in a form row's nested layout it was cut off and overlapped by the next row).
        grid = QGridLayout(self)
        grid.setColumnStretch(1, 1)
        grid.setColumnMinimumWidth(0, 280)
        grid.setVerticalSpacing(2)
        for index, key in enumerate(self.keys):
            spec = self.specs[key]
            label = spec.get("label", key)
            field: QLineEdit | QCheckBox
            if spec["type"] == "boolean":
                field = QCheckBox("On", self)
            else:
                field = QLineEdit(self)
                if spec.get("max_length"):
                    field.setMaxLength(int(spec["max_length"]))
                if spec.get("secret"):  # a device's unlock code: typed, never shown (issue 16)
                    field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setAccessibleName(label)
            field.setToolTip(spec.get("help", ""))
            self.fields[key] = field
            title = QLabel(label, self)
            title.setWordWrap(True)
            title.setBuddy(field)
            title.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            row = index * 4
            grid.addWidget(title, row, 0)
            grid.addWidget(field, row, 1)
            help_text = spec.get("help", "")
            if spec["type"] in ("number", "integer") and spec.get("min") is not None:
                help_text = f"{help_text} Allowed: {spec['min']:g} to {spec['max']:g}.".strip()
            if help_text:
                hint = QLabel(help_text, self)
                hint.setObjectName("hint")
                hint.setWordWrap(True)
                grid.addWidget(hint, row + 1, 1)
            problem = QLabel("", self)
            problem.setObjectName("error")
            problem.setWordWrap(True)
            problem.setAccessibleName(f"Problem with {label}")
            problem.hide()
            self.problems[key] = problem
            grid.addWidget(problem, row + 2, 1)
            grid.setRowMinimumHeight(row + 3, 10)
        grid.setRowStretch(len(self.keys) * 4, 1)
        self.load()

    def load(self) -> None:
        """Show the clinic's current values (or the shipped defaults), forgetting edits."""
        values = all_settings(self._db)
        for key, field in self.fields.items():
            if isinstance(field, QCheckBox):
                field.setChecked(bool(values[key]))
            else:
                field.setText(_shown(values[key]))
            self.problems[key].hide()

    def typed(self, key: str) -> Any:
        """What the field holds, as the setting's type (a number that is not one stays text,
        so the check says what is wrong in the setting's own words)."""
        field = self.fields[key]
        if isinstance(field, QCheckBox):
            return field.isChecked()
        text = field.text().strip()
        if self.specs[key]["type"] == "string":
            return text
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return text

    def _problem(self, key: str, message: str | None) -> None:
        self.problems[key].setText(message or "")
        self.problems[key].setVisible(bool(message))

    def changed(self) -> dict[str, Any]:
        """Key -> value of every field whose value differs from the clinic's current one."""
        current = all_settings(self._db)
        out = {}
        for key in self.keys:
            value = self.typed(key)
            if value != current[key] or (isinstance(value, str) and self.specs[key]["type"] != "string"):
                out[key] = value
        return out

    def save(self, *, also: Sequence[str] = ()) -> list[str]:
        """Check every changed value first, then save them one by one (each audited).

        ``also``: keys saved even when unchanged (the set-up records the clinic's choice of a
        default). Raises ClinicError when a value is not allowed (named next to its field).
        """
        wanted = self.changed()
        for key in also:
            if key in self.fields:
                wanted.setdefault(key, self.typed(key))
        bad = False
        checked: dict[str, Any] = {}
        for key in self.keys:
            self._problem(key, None)
            if key not in wanted:
                continue
            try:
                checked[key] = validate(key, wanted[key], self.specs)
            except ClinicError as exc:
                self._problem(key, str(exc))
                bad = True
        if bad:
            raise ClinicError("Nothing was saved: correct the values marked in red.")
        for key, value in checked.items():
            change_setting(self._db, self._user, key, value)
        self.load()
        if checked:
            self.saved.emit(list(checked))
        return list(checked)


class SettingsPage(QWidget):
    """The admin's Settings tab: the form in a scrolled area, Save and Undo changes below it."""

    def __init__(self, db: Store, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Clinic settings")
        layout = QVBoxLayout(self)
        title = QLabel("Clinic settings", self)
        title.setObjectName("screenTitle")
        intro = QLabel("These choices hold for every chair using this database. Each change is "
                       "recorded with your name and the time.", self)
        intro.setObjectName("hint")
        intro.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(intro)
        self.form = SettingsForm(db, user, editable_keys(), self)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(self.form)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        layout.addWidget(self.scroll_area, 1)
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Result")
        row = QHBoxLayout()
        row.addWidget(self.message, 1)
        self.undo_button = QPushButton("Undo changes", self)
        self.undo_button.setAccessibleName("Undo changes")
        self.undo_button.clicked.connect(self.undo)
        self.save_button = QPushButton("Save changes", self)
        self.save_button.setObjectName("primary")
        self.save_button.setAccessibleName("Save changes")
        self.save_button.clicked.connect(self.save)
        row.addWidget(self.undo_button)
        row.addWidget(self.save_button)
        layout.addLayout(row)

    def _say(self, text: str, kind: str) -> None:
        self.message.setObjectName(kind)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(text)

    def save(self) -> None:
        try:
            keys = self.form.save()
        except (ClinicError, PermissionDenied) as exc:
            self._say(str(exc), "error")
            for key in self.form.keys:  # the first value to correct is brought into view
                if not self.form.problems[key].isHidden():
                    self.scroll_area.ensureWidgetVisible(self.form.fields[key], 50, 80)
                    self.form.fields[key].setFocus()
                    break
            return
        if not keys:
            self._say("Nothing changed.", "hint")
            return
        labels = [self.form.specs[key].get("label", key) for key in keys]
        self._say("Saved: " + "; ".join(labels) + ".", "hint")

    def undo(self) -> None:
        self.form.load()
        self._say("Changes undone: the saved values are shown.", "hint")
