"""The admin's Accounts screen: every account with its role, state, last log-in and lock; new
accounts of any role; a role change, disabling or enabling, a temporary password.

Each change is one call of :mod:`console.people.admin` (which checks, against the database, that
the person is still an admin, and writes the audit row: who, when, what). Accounts are disabled,
never deleted: records keep naming them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.errors import ClinicError, PermissionDenied
from console.people.account_status import AccountStatus, account_statuses
from console.people.admin import create_user, reset_password, set_active, set_role
from console.people.passwords import MAX_PASSWORD_LENGTH
from console.people.user import ROLES, User
from console.store import Store

log = logging.getLogger(__name__)

COLUMNS = ("User name", "Full name", "Role", "Account", "Locked", "Last log-in")

ROLE_SHORT = {"technician": "Technician", "supervisor": "Supervisor", "physician": "Physician",
              "admin": "Administrator"}
"""A role as the list shows it (the role boxes say what a supervisor is)."""

ROLE_WORDS = {
    "technician": "Technician",
    "supervisor": "Supervisor (lead technician)",
    "physician": "Physician",
    "admin": "Administrator",
}


def _local(when: datetime | None) -> str:
    return when.astimezone().strftime("%d %b %Y %H:%M") if when is not None else "never"


def _until(when: datetime) -> str:
    return f"until {when.astimezone():%H:%M}"


def _password_field(name: str, parent: QWidget) -> QLineEdit:
    field = QLineEdit(parent)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(MAX_PASSWORD_LENGTH)
    field.setAccessibleName(name)
    return field


def _role_box(parent: QWidget, name: str) -> QComboBox:
    box = QComboBox(parent)
    box.setAccessibleName(name)
    for role in ROLES:
        box.addItem(ROLE_WORDS.get(role, role), role)
    return box


class AccountsPage(QWidget):
    """The list on the left; the new-account form and the chosen account's actions on the right."""

    def __init__(self, db: Store, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._user = user
        self.accounts: list[AccountStatus] = []
        self.setAccessibleName("Accounts")

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setAccessibleName("Accounts list")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._chosen_changed)

        # ---- a new account
        self.new_box = QGroupBox("New account", self)
        self.new_full_name = QLineEdit(self.new_box)
        self.new_full_name.setMaxLength(100)
        self.new_full_name.setAccessibleName("New account's full name")
        self.new_username = QLineEdit(self.new_box)
        self.new_username.setMaxLength(32)
        self.new_username.setAccessibleName("New account's user name")
        self.new_role = _role_box(self.new_box, "New account's role")
        self.new_password = _password_field("New account's temporary password", self.new_box)
        self.new_repeat = _password_field("Repeat the temporary password", self.new_box)
        self.create_button = QPushButton("Create account", self.new_box)
        self.create_button.setObjectName("primary")
        self.create_button.setAccessibleName("Create account")
        self.create_button.clicked.connect(self.create_account)
        new_form = QFormLayout(self.new_box)
        new_form.addRow("Full name", self.new_full_name)
        new_form.addRow("User name", self.new_username)
        new_form.addRow("Role", self.new_role)
        new_form.addRow("Temporary password", self.new_password)
        new_form.addRow("Repeat it", self.new_repeat)
        note = QLabel("The person chooses their own password at their first log-in.", self.new_box)
        note.setObjectName("hint")
        note.setWordWrap(True)
        new_form.addRow(note)
        new_form.addRow(self.create_button)

        # ---- the chosen account
        self.chosen_box = QGroupBox("Chosen account", self)
        self.chosen_name = QLabel("Choose an account in the list.", self.chosen_box)
        self.chosen_name.setWordWrap(True)
        self.chosen_role = _role_box(self.chosen_box, "Chosen account's role")
        self.role_button = QPushButton("Change role", self.chosen_box)
        self.role_button.setAccessibleName("Change role")
        self.role_button.clicked.connect(self.change_role)
        self.active_button = QPushButton("Disable account", self.chosen_box)
        self.active_button.setAccessibleName("Disable or enable the account")
        self.active_button.clicked.connect(self.toggle_active)
        self.reset_password = _password_field("Temporary password for the chosen account", self.chosen_box)
        self.reset_repeat = _password_field("Repeat the temporary password for the chosen account",
                                            self.chosen_box)
        self.reset_button = QPushButton("Reset password", self.chosen_box)
        self.reset_button.setAccessibleName("Reset password")
        self.reset_button.clicked.connect(self.reset_chosen_password)
        chosen_form = QFormLayout(self.chosen_box)
        chosen_form.addRow(self.chosen_name)
        role_row = QHBoxLayout()  # the whole width: a long role name and the button both fit
        role_row.addWidget(self.chosen_role, 1)
        role_row.addWidget(self.role_button)
        chosen_form.addRow(role_row)
        chosen_form.addRow(self.active_button)
        chosen_form.addRow("Temporary password", self.reset_password)
        chosen_form.addRow("Repeat it", self.reset_repeat)
        chosen_form.addRow(self.reset_button)

        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Result")

        side_panel = QWidget(self)
        side_panel.setMaximumWidth(460)
        side = QVBoxLayout(side_panel)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.new_box)
        side.addWidget(self.chosen_box)
        side.addStretch(1)
        left = QVBoxLayout()
        title = QLabel("Accounts", self)
        title.setObjectName("screenTitle")
        left.addWidget(title)
        left.addWidget(self.table, 1)
        left.addWidget(self.message)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(side_panel)
        self.refresh()

    # ------------------------------------------------------------------ the list
    def refresh(self, keep: str | None = None) -> None:
        """Read the accounts again; ``keep`` (a user name) stays chosen."""
        keep = keep if keep is not None else self.chosen_username()
        try:
            self.accounts = account_statuses(self._db, self._user)
        except (ClinicError, PermissionDenied) as exc:
            self.accounts = []
            self._say(str(exc), "error")
        self.table.setRowCount(len(self.accounts))
        for row, status in enumerate(self.accounts):
            account = status.user
            cells = (account.username, account.full_name, ROLE_SHORT.get(account.role, account.role),
                     "active" if account.active else "disabled",
                     _until(status.locked_until) if status.locked and status.locked_until else "no",
                     _local(status.last_login_at))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, account.username)
                self.table.setItem(row, column, item)
        self.table.clearSelection()
        for row, status in enumerate(self.accounts):
            if status.user.username == keep:
                self.table.selectRow(row)
        self._chosen_changed()

    def chosen(self) -> AccountStatus | None:
        rows = self.table.selectionModel().selectedRows()
        return self.accounts[rows[0].row()] if rows else None

    def chosen_username(self) -> str | None:
        status = self.chosen()
        return status.user.username if status is not None else None

    def choose(self, username: str) -> None:
        """Choose the account ``username`` in the list (as a click on its row does)."""
        for row, status in enumerate(self.accounts):
            if status.user.username == username:
                self.table.selectRow(row)
                return
        raise KeyError(username)

    def _chosen_changed(self) -> None:
        status = self.chosen()
        for widget in (self.chosen_role, self.role_button, self.active_button, self.reset_password,
                       self.reset_repeat, self.reset_button):
            widget.setEnabled(status is not None)
        if status is None:
            self.chosen_name.setText("Choose an account in the list.")
            self.active_button.setText("Disable account")
            return
        account = status.user
        self.chosen_name.setText(f"{account.full_name} ({account.username})")
        self.chosen_role.setCurrentIndex(max(0, self.chosen_role.findData(account.role)))
        self.active_button.setText("Disable account" if account.active else "Enable account")

    # ------------------------------------------------------------------ doing it
    def _say(self, text: str, kind: str) -> None:
        self.message.setObjectName(kind)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(text)

    def _do(self, action: Callable[[], str], keep: str | None) -> bool:
        """Run one change; say what happened (a refusal in the domain's own words)."""
        try:
            done = action()
        except (ClinicError, PermissionDenied) as exc:
            self._say(str(exc), "error")
            return False
        except Exception:  # a bug: the screen stays, the log has the details
            log.exception("account change failed")
            self._say("That change could not be saved; the log says why.", "error")
            return False
        self.refresh(keep)
        self._say(done, "hint")
        return True

    def create_account(self) -> None:
        def create() -> str:
            if self.new_password.text() != self.new_repeat.text():
                raise ClinicError("The two passwords are not the same.")
            role = str(self.new_role.currentData())
            made = create_user(self._db, self._user, self.new_username.text(), self.new_full_name.text(),
                               role, self.new_password.text(), must_change_password=True)
            return f"Account {made.username} ({ROLE_WORDS.get(role, role)}) created."

        name = self.new_username.text().strip().lower()
        if self._do(create, name):
            for field in (self.new_full_name, self.new_username):
                field.clear()
        self.new_password.clear()
        self.new_repeat.clear()

    def change_role(self) -> None:
        status = self.chosen()
        if status is None:
            return
        role = str(self.chosen_role.currentData())
        username = status.user.username

        def change() -> str:
            set_role(self._db, self._user, username, role)
            return f"{username} is now: {ROLE_WORDS.get(role, role)}."

        self._do(change, username)

    def toggle_active(self) -> None:
        status = self.chosen()
        if status is None:
            return
        username, active = status.user.username, not status.user.active

        def toggle() -> str:
            set_active(self._db, self._user, username, active)
            return f"{username} is {'enabled' if active else 'disabled'}."

        self._do(toggle, username)

    def reset_chosen_password(self) -> None:
        status = self.chosen()
        if status is None:
            return
        username = status.user.username

        def reset() -> str:
            if self.reset_password.text() != self.reset_repeat.text():
                raise ClinicError("The two passwords are not the same.")
            reset_password(self._db, self._user, username, self.reset_password.text())
            return f"Temporary password set for {username}; they choose their own at their next log-in."

        self._do(reset, username)
        self.reset_password.clear()
        self.reset_repeat.clear()
