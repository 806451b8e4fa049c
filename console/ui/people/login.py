"""The log-in dialog, and its two other faces: the first start and a forced password change.

- ``login``: user name and password; errors in plain words (wrong password,
  account locked until when, account disabled). On a database marked as a
  demo database a banner says so and lists the demo accounts (a click fills
  them in); a clinic database never shows one.
- ``first_admin``: the first start of an empty database asks for the admin
  account (there are no built-in passwords).
- ``change_password``: after an admin reset a password, its holder chooses
  their own before going on.

Checks live in ``console.people.accounts``; this dialog only shows what they say.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.errors import ClinicError
from console.people.admin import DEMO_ACCOUNTS, create_user
from console.people.login import (
    LOCKOUT_ATTEMPTS,
    LOCKOUT_DURATION,
    WRONG_PASSWORD,
    authenticate,
    change_password,
)
from console.people.passwords import MAX_PASSWORD_LENGTH
from console.people.permissions import PermissionDenied
from console.people.user import User, get_user, is_demo_database, needs_first_admin
from console.store import Store

log = logging.getLogger(__name__)

MODES = ("login", "first_admin", "change_password")

_INTRO = {
    "login": "Log in with your own account.",
    "first_admin": (
        "This is the first start of this database. Create the administrator account: the "
        "administrator creates everyone else's accounts and sets the clinic settings. "
        "There is no built-in password."
    ),
    "change_password": "An administrator reset your password. Choose your own before going on.",
}
_BUTTON = {"login": "Log in", "first_admin": "Create admin account", "change_password": "Save password"}


def _password_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(MAX_PASSWORD_LENGTH)
    return field


class DemoBanner(QFrame):
    """"DEMO DATABASE" and the demo accounts; clicking one fills the log-in fields."""

    def __init__(self, demo_accounts: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demoBanner")
        self.setStyleSheet("QFrame#demoBanner { background: #4a3a12; border: 2px solid #f0c36a; "
                           "border-radius: 8px; }")
        layout = QVBoxLayout(self)
        mark = QLabel("DEMO DATABASE", self)
        mark.setObjectName("demoMark")
        mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(mark)
        warning = QLabel("Practice data only, not for patient care. Demo accounts "
                         "(click one to fill it in):", self)
        warning.setObjectName("warning")
        warning.setWordWrap(True)
        layout.addWidget(warning)
        self.buttons: dict[str, QPushButton] = {}
        for username, password, role in demo_accounts:
            label = f"{username}  /  {password}" + ("" if username == role else f"   ({role})")
            button = QPushButton(label, self)
            button.setProperty("demo_login", (username, password))
            layout.addWidget(button)
            self.buttons[username] = button


class LoginDialog(QDialog):
    """Modal dialog; after ``exec()`` returns Accepted, :attr:`user` is the logged-in person.

    ``mode`` defaults to ``first_admin`` when the database has no admin yet, else ``login``.
    """

    def __init__(self, db: Store, parent: QWidget | None = None,
                 mode: str | None = None, user: User | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self.user: User | None = user
        self._typed_password = ""
        if mode is None:
            mode = "first_admin" if needs_first_admin(db) else "login"
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.setWindowTitle("TMS Session Console — log in")
        self.setModal(True)
        self.setMinimumWidth(520)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        self.title = QLabel("TMS Session Console", self)
        self.title.setObjectName("screenTitle")
        layout.addWidget(self.title)
        self.intro = QLabel(self)
        self.intro.setObjectName("hint")
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)

        self.demo_banner: DemoBanner | None = None
        demo = self._demo_accounts()
        if demo:
            self.demo_banner = DemoBanner(demo, self)
            for button in self.demo_banner.buttons.values():
                button.clicked.connect(self._fill_demo)
            layout.addWidget(self.demo_banner)

        self.full_name = QLineEdit(self)
        self.full_name.setMaxLength(100)
        self.username = QLineEdit(self)
        self.username.setMaxLength(32)
        self.password = _password_field()
        self.repeat = _password_field()
        self.form = QFormLayout()
        self.form.addRow("Full name", self.full_name)
        self.form.addRow("User name", self.username)
        self.form.addRow("Password", self.password)
        self.form.addRow("Repeat password", self.repeat)
        layout.addLayout(self.form)

        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Quit", self)
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = QPushButton(self)
        self.ok_button.setObjectName("primary")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.submit)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        layout.addLayout(buttons)
        for field in (self.full_name, self.username, self.password, self.repeat):
            field.returnPressed.connect(self.submit)
        self.set_mode(mode)

    # --- modes -------------------------------------------------------------------------------

    def _demo_accounts(self) -> list[tuple[str, str, str]]:
        if not is_demo_database(self._db):
            return []
        return [(name, password, role) for name, _, role, password in DEMO_ACCOUNTS
                if get_user(self._db, name) is not None]

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.intro.setText(_INTRO[mode])
        self.ok_button.setText(_BUTTON[mode])
        rows = {
            "login": (False, True, True, False),
            "first_admin": (True, True, True, True),
            "change_password": (False, False, True, True),
        }[mode]
        for field, show in zip((self.full_name, self.username, self.password, self.repeat), rows,
                               strict=True):
            self.form.setRowVisible(field, show)
        label = self.form.labelForField(self.password)
        if isinstance(label, QLabel):  # the form made it from the row's text
            label.setText("New password" if mode == "change_password" else "Password")
        if self.demo_banner is not None:
            self.demo_banner.setVisible(mode == "login")
        self.cancel_button.setText("Quit" if mode != "change_password" else "Cancel")
        self.password.clear()
        self.repeat.clear()
        self._show_error(None)
        first = {"login": self.username, "first_admin": self.full_name,
                 "change_password": self.password}[mode]
        if mode == "login" and self.username.text():
            first = self.password
        first.setFocus()

    def _fill_demo(self) -> None:
        username, password = self.sender().property("demo_login")
        self.username.setText(username)
        self.password.setText(password)
        self.ok_button.setFocus()

    def _show_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))

    # --- doing it ----------------------------------------------------------------------------

    def submit(self) -> None:
        """Do what the current mode asks; on a mistake say what is wrong and stay open."""
        try:
            if self.mode == "login":
                self._log_in()
            elif self.mode == "first_admin":
                self._create_admin()
            else:
                self._change_password()
        except (ClinicError, PermissionDenied) as exc:
            self._show_error(_with_lock_rule(str(exc)))
            self.password.clear()
            self.repeat.clear()
            self.password.setFocus()

    def _log_in(self) -> None:
        if not self.username.text().strip():
            raise ClinicError("Enter your user name.")
        user = authenticate(self._db, self.username.text(), self.password.text())
        log.info("%s logged in", user.username)
        self.user = user
        if user.must_change_password:
            self._typed_password = self.password.text()
            self.set_mode("change_password")
            return
        self.accept()

    def _same_twice(self) -> None:
        if self.password.text() != self.repeat.text():
            raise ClinicError("The two passwords are not the same.")

    def _create_admin(self) -> None:
        self._same_twice()
        create_user(self._db, None, self.username.text(), self.full_name.text(), "admin",
                             self.password.text())
        self.user = authenticate(self._db, self.username.text(), self.password.text())
        self.accept()

    def _change_password(self) -> None:
        if self.user is None:
            raise ClinicError("Log in first.")
        self._same_twice()
        self.user = change_password(self._db, self.user, self._typed_password,
                                             self.password.text())
        self._typed_password = ""
        self.accept()

    def reject(self) -> None:
        self._typed_password = ""
        if self.mode == "change_password":
            self.user = None  # not logged in until the password is their own
        super().reject()


def _with_lock_rule(message: str) -> str:
    """The one answer to a failed log-in, with the lock rule beside it: the same words for an unknown
    name, a wrong password and a locked account (so they reveal nothing), yet someone locked out
    still learns why the right password does not work yet."""
    if message != WRONG_PASSWORD:
        return message
    minutes = round(LOCKOUT_DURATION.total_seconds() / 60)
    return (f"{message} After {LOCKOUT_ATTEMPTS} wrong passwords in a row an account is locked for "
            f"{minutes} minutes; an admin can unlock it sooner.")
