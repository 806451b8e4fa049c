"""The log-in dialog, offscreen: first start, errors in plain words, demo banner, forced change."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QPushButton

from console.people.admin import DEMO_ACCOUNTS, create_demo_accounts, reset_password
from console.people.login import authenticate
from console.people.user import needs_first_admin
from console.ui.people.login import LoginDialog
from tests.accounts.conftest import PASSWORDS


def open_dialog(qtbot, db) -> LoginDialog:
    dialog = LoginDialog(db)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def visible_text(dialog: LoginDialog) -> str:
    parts = [w.text() for w in dialog.findChildren(QLabel) + dialog.findChildren(QPushButton)
             if w.isVisible()]
    return "\n".join(parts)


def test_the_first_start_creates_the_admin_account(qtbot, db) -> None:
    dialog = open_dialog(qtbot, db)
    assert dialog.mode == "first_admin" and dialog.full_name.isVisible() and dialog.repeat.isVisible()
    assert "no built-in password" in visible_text(dialog)
    dialog.full_name.setText("Ada Admin")
    dialog.username.setText("ada")
    dialog.password.setText("admin-pass-1")
    dialog.repeat.setText("admin-pass-2")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.error.isVisible() and dialog.error.text() == "The two passwords are not the same."
    assert needs_first_admin(db)
    dialog.password.setText("short")
    dialog.repeat.setText("short")
    dialog.submit()
    assert "at least 8 characters" in dialog.error.text()
    dialog.password.setText("admin-pass-1")
    dialog.repeat.setText("admin-pass-1")
    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert (dialog.user.username, dialog.user.role) == ("ada", "admin")
    assert not needs_first_admin(db)


def test_log_in_with_plain_error_messages(qtbot, db, people) -> None:
    dialog = open_dialog(qtbot, db)
    assert dialog.mode == "login" and not dialog.full_name.isVisible() and not dialog.repeat.isVisible()
    assert dialog.demo_banner is None and "demo-" not in visible_text(dialog)
    dialog.submit()
    assert dialog.error.text() == "Enter your user name."
    dialog.username.setText("tom")
    said = set()
    for attempt in range(4):
        dialog.password.setText(f"wrong-{attempt}")
        dialog.submit()
        assert dialog.error.text().startswith("Wrong user name or password.")
        assert "locked for 5 minutes" in dialog.error.text()  # the rule, said to everyone alike
        said.add(dialog.error.text())
        assert dialog.password.text() == ""  # typed again, not left in the field
    dialog.password.setText("wrong-5")
    dialog.submit()
    said.add(dialog.error.text())
    assert len(said) == 1  # locked, and it does not say so: the same words as a wrong password (issue 15)
    assert db.execute("SELECT locked_until FROM users WHERE username = 'tom'").fetchone()[0] is not None
    assert dialog.result() != QDialog.DialogCode.Accepted and dialog.user is None
    dialog.username.setText("sue")
    dialog.password.setText(PASSWORDS["sue"])
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.user.username == "sue"


def test_a_demo_database_shows_the_demo_accounts_and_a_click_fills_them_in(qtbot, db) -> None:
    db.execute("INSERT INTO settings (key, value, changed_at) VALUES ('demo_database', 'true', 'x')")
    create_demo_accounts(db)
    dialog = open_dialog(qtbot, db)
    assert dialog.mode == "login" and dialog.demo_banner.isVisible()
    text = visible_text(dialog)
    assert "DEMO DATABASE" in text and "not for patient care" in text
    for username, _, _, password in DEMO_ACCOUNTS:
        assert username in text and password in text
    qtbot.mouseClick(dialog.demo_banner.buttons["supervisor"], Qt.MouseButton.LeftButton)
    assert (dialog.username.text(), dialog.password.text()) == ("supervisor", "demo-supervisor")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.user.role == "supervisor"


def test_after_an_admin_reset_the_person_chooses_a_new_password(qtbot, db, people) -> None:
    reset_password(db, people["ada"], "tom", "temporary-lamp-1")
    dialog = open_dialog(qtbot, db)
    dialog.username.setText("tom")
    dialog.password.setText("temporary-lamp-1")
    dialog.submit()
    assert dialog.mode == "change_password" and dialog.isVisible()
    assert not dialog.username.isVisible() and dialog.repeat.isVisible()
    dialog.password.setText("temporary-lamp-1")
    dialog.repeat.setText("temporary-lamp-1")
    dialog.submit()
    assert "different" in dialog.error.text()
    dialog.password.setText("toms-own-pass")
    dialog.repeat.setText("toms-own-pass")
    dialog.submit()
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.user.must_change_password
    assert authenticate(db, "tom", "toms-own-pass").username == "tom"
