"""Issue 15: a clinic sets itself up through the window: the first admin, the guided clinic set-up,
the Accounts screen (every role, role change, disable/enable, temporary password, last log-in and
lock) and the Settings screen (every setting, checked, saved through change_setting, audited).

Real widgets offscreen on a real SQLite file; every change is read back from the database and its
audit row.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QTabWidget

from console.clinic.clinic_setup import SETUP_KEYS, needs_clinic_setup
from console.clinic.settings import all_settings, definitions, get_setting
from console.people.admin import create_demo_accounts, create_user, mark_demo_database
from console.people.login import AuthError, authenticate
from console.people.user import get_user
from console.ui.clinic.clinic_setup import ClinicSetupDialog
from console.ui.clinic.settings_screen import SettingsPage
from console.ui.main_window import SCREENS, MainWindow
from console.ui.people.accounts import AccountsPage
from console.ui.widgets.screen_fit import PREFERRED, ScreenFitter, fit_to_screen
from console.ui.widgets.theme import apply_style
from db.database import open_database
from tests.ui.fit_check import SIZES, area_of, fit_problems, settle

ADMIN_PASSWORD = "Harbour-Lantern-Quill-73"
TECH_PASSWORD = "Maple-Orbit-Thistle-58"
DOC_PASSWORD = "Granite-Willow-Comet-19"


@pytest.fixture
def screen_720(qapp: QApplication) -> Iterator[QRect]:
    """A 1280×720 screen with the clinic's look (what must fit)."""
    rect = area_of(SIZES["1280x720"])
    fitter = ScreenFitter(qapp, available=rect)
    qapp.installEventFilter(fitter)
    apply_style(qapp)
    yield rect
    qapp.setStyleSheet("")
    qapp.removeEventFilter(fitter)


def audit_rows(db, action: str) -> list[tuple[str, str, str, str]]:
    """(actor, entity id, old values, new values) of every audit row of ``action``, oldest first."""
    return [tuple(row) for row in db.execute(
        "SELECT actor, entity_id, old_values, new_values FROM audit_log WHERE action = ? ORDER BY id",
        [action]).fetchall()]


def tab(window: MainWindow, name: str):
    for title, widget in window.screens:
        if title == name:
            assert isinstance(window.workspace, QTabWidget)
            window.workspace.setCurrentWidget(widget)
            return widget
    raise AssertionError(f"no {name} tab in {[t for t, _ in window.screens]}")


def _fits(window, area: QRect, what: str) -> None:
    settle()
    problems = fit_problems(window, area)
    assert not problems, f"{what}:\n  " + "\n  ".join(problems)


def test_the_admin_has_accounts_and_settings_screens() -> None:
    """The issue: nothing in the window reached create_user for other roles, set_role, set_active
    or change_setting; the admin had only the patients."""
    names = [name for name, _ in SCREENS["admin"]]
    assert "Accounts" in names and "Settings" in names
    assert dict(SCREENS["admin"])["Accounts"] is AccountsPage
    assert dict(SCREENS["admin"])["Settings"] is SettingsPage


def test_a_clinic_sets_itself_up_from_an_empty_database(qtbot, tmp_path: Path, fast_hasher,
                                                        screen_720: QRect) -> None:
    db = open_database(tmp_path / "clinic.db")
    window = MainWindow(db, tmp_path / "clinic.db")
    qtbot.addWidget(window)
    fit_to_screen(window, PREFERRED, screen_720)
    window.show()
    window.start()
    try:
        # --- the first admin
        qtbot.waitUntil(lambda: window.login is not None and window.login.isVisible(), timeout=10000)
        login = window.login
        assert login.mode == "first_admin"
        login.full_name.setText("Ada Admin")
        login.username.setText("ada")
        login.password.setText(ADMIN_PASSWORD)
        login.repeat.setText(ADMIN_PASSWORD)
        login.submit()
        qtbot.waitUntil(lambda: window.user is not None, timeout=10000)
        assert window.user.username == "ada" and window.user.role == "admin"

        # --- the guided clinic set-up follows at once
        qtbot.waitUntil(lambda: window.clinic_setup is not None and window.clinic_setup.isVisible(),
                        timeout=10000)
        setup = window.clinic_setup
        assert isinstance(setup, ClinicSetupDialog)
        assert list(setup.settings.fields) == list(SETUP_KEYS)
        assert needs_clinic_setup(db)
        setup.settings.fields["clinic_name"].setText("")
        assert not setup.try_save()  # a name is needed
        assert "clinic's name" in setup.error.text()
        setup.settings.fields["clinic_name"].setText("Lakeside TMS Clinic")
        setup.settings.fields["clinic_phone"].setText("555 0100")
        setup.settings.fields["supervising_physician"].setText("Dr. Rosa Reyes")
        setup.settings.fields["tol_distance_mm"].setText("99")  # outside 0.5 to 20
        assert not setup.try_save()
        assert setup.settings.problems["tol_distance_mm"].isVisible()
        assert get_setting(db, "clinic_name") == ""  # nothing saved while a value is wrong
        setup.settings.fields["tol_distance_mm"].setText("2.5")
        setup.settings.fields["idle_lock_minutes"].setText("5")
        setup.settings.fields["mt_remeasure_days"].setText("14")
        assert setup.try_save()
        qtbot.waitUntil(lambda: window.clinic_setup is None, timeout=10000)
        values = all_settings(db)
        assert values["clinic_name"] == "Lakeside TMS Clinic"
        assert values["supervising_physician"] == "Dr. Rosa Reyes"
        assert values["tol_distance_mm"] == 2.5
        assert values["idle_lock_minutes"] == 5 and values["mt_remeasure_days"] == 14
        assert not needs_clinic_setup(db)
        saved = {row[1]: row for row in audit_rows(db, "change_setting")}
        assert set(saved) == set(SETUP_KEYS)  # every set-up value audited, defaults kept too
        assert all(row[0] == "ada" for row in saved.values())
        assert json.loads(saved["tol_distance_mm"][3]) == {"value": 2.5}

        # --- the accounts screen: a technician and a physician
        accounts = tab(window, "Accounts")
        assert isinstance(accounts, AccountsPage)
        _fits(window, screen_720, "the accounts screen at 1280×720")
        for username, full, role, password in (("tina", "Tina Tech", "technician", TECH_PASSWORD),
                                               ("phil", "Dr Phil Physician", "physician", DOC_PASSWORD)):
            accounts.new_full_name.setText(full)
            accounts.new_username.setText(username)
            accounts.new_role.setCurrentIndex(accounts.new_role.findData(role))
            accounts.new_password.setText(password)
            accounts.new_repeat.setText(password)
            accounts.create_button.click()
            made = get_user(db, username)
            assert made is not None and made.role == role and made.must_change_password, \
                accounts.message.text()
        assert [status.user.username for status in accounts.accounts] == ["ada", "phil", "tina"]
        created = audit_rows(db, "create_user")
        assert [(row[0], row[1]) for row in created] == [("ada", "ada"), ("ada", "tina"), ("ada", "phil")]
        # The new person logs in with the temporary password (and is asked for their own).
        assert authenticate(db, "tina", TECH_PASSWORD).must_change_password

        # Two passwords that differ are refused, and no account is made.
        accounts.new_full_name.setText("Sue Super")
        accounts.new_username.setText("sue")
        accounts.new_password.setText(TECH_PASSWORD)
        accounts.new_repeat.setText(DOC_PASSWORD)
        accounts.create_button.click()
        assert get_user(db, "sue") is None
        assert "not the same" in accounts.message.text()

        # Change a role, disable and enable, reset a password: each audited under the admin's name.
        accounts.choose("tina")
        accounts.chosen_role.setCurrentIndex(accounts.chosen_role.findData("supervisor"))
        accounts.role_button.click()
        assert get_user(db, "tina").role == "supervisor"
        accounts.choose("tina")
        assert accounts.active_button.text() == "Disable account"
        accounts.active_button.click()
        assert not get_user(db, "tina").active
        with pytest.raises(AuthError):
            authenticate(db, "tina", TECH_PASSWORD)
        assert accounts.chosen().user.username == "tina"
        assert accounts.active_button.text() == "Enable account"
        accounts.active_button.click()
        assert get_user(db, "tina").active
        accounts.choose("phil")
        accounts.reset_password.setText("Copper-Meadow-Falcon-62")
        accounts.reset_repeat.setText("Copper-Meadow-Falcon-62")
        accounts.reset_button.click()
        assert authenticate(db, "phil", "Copper-Meadow-Falcon-62").must_change_password
        assert [row[:2] for row in audit_rows(db, "change_role")] == [("ada", "tina")]
        assert [row[:2] for row in audit_rows(db, "disable_user")] == [("ada", "tina")]
        assert [row[:2] for row in audit_rows(db, "enable_user")] == [("ada", "tina")]
        assert [row[:2] for row in audit_rows(db, "reset_password")] == [("ada", "phil")]
        # The last admin cannot be disabled: said in words, nothing changes.
        accounts.choose("ada")
        accounts.active_button.click()
        assert get_user(db, "ada").active
        assert "own account" in accounts.message.text() or "last active admin" in accounts.message.text()

        # --- the settings screen: every setting, its help text; a change saved and audited
        settings = tab(window, "Settings")
        assert isinstance(settings, SettingsPage)
        _fits(window, screen_720, "the settings screen at 1280×720")
        editable = [key for key, spec in definitions().items() if spec.get("admin_editable", True)]
        assert list(settings.form.fields) == editable
        assert "demo_database" not in settings.form.fields
        assert settings.form.fields["clinic_name"].text() == "Lakeside TMS Clinic"  # set-up shown
        before = len(audit_rows(db, "change_setting"))
        settings.form.fields["phq9_interval_days"].setText("500")
        settings.save_button.click()
        assert get_setting(db, "phq9_interval_days") == 7
        assert settings.form.problems["phq9_interval_days"].isVisible()
        assert "1 to 90" in settings.form.problems["phq9_interval_days"].text()
        settings.form.fields["phq9_interval_days"].setText("14")
        settings.save_button.click()
        assert get_setting(db, "phq9_interval_days") == 14
        assert "Saved" in settings.message.text()
        rows = audit_rows(db, "change_setting")
        assert len(rows) == before + 1  # only what changed
        assert rows[-1][:2] == ("ada", "phq9_interval_days")
        assert json.loads(rows[-1][2]) == {"value": 7} and json.loads(rows[-1][3]) == {"value": 14}
    finally:
        window.shutdown()
        db.close()


def test_the_accounts_list_shows_the_last_log_in_and_a_lock(qtbot, tmp_path: Path, fast_hasher) -> None:
    db = open_database(tmp_path / "clinic.db")
    try:
        admin = create_user(db, None, "ada", "Ada Admin", "admin", ADMIN_PASSWORD)
        create_user(db, admin, "tina", "Tina Tech", "technician", TECH_PASSWORD)
        authenticate(db, "ada", ADMIN_PASSWORD)
        for _ in range(30):  # wrong passwords until the account locks
            with contextlib.suppress(AuthError):
                authenticate(db, "tina", "not her password at all")
        page = AccountsPage(db, admin)
        qtbot.addWidget(page)
        rows = {page.table.item(r, 0).text(): [page.table.item(r, c).text() for c in range(6)]
                for r in range(page.table.rowCount())}
        assert rows["ada"][5] != "never" and rows["tina"][5] == "never"
        assert rows["ada"][4] == "no" and rows["tina"][4].startswith("until ")
        assert rows["tina"][3] == "active"
    finally:
        db.close()


def test_a_demo_database_and_other_roles_get_no_set_up(qtbot, tmp_path: Path, fast_hasher) -> None:
    db = open_database(tmp_path / "clinic.db")
    try:
        admin = create_user(db, None, "ada", "Ada Admin", "admin", ADMIN_PASSWORD)
        tech = create_user(db, admin, "tina", "Tina Tech", "technician", TECH_PASSWORD)
        window = MainWindow(db, tmp_path / "clinic.db")
        qtbot.addWidget(window)
        window.set_user(tech)
        window.offer_clinic_setup()
        assert window.clinic_setup is None
        window.set_user(admin)
        window.offer_clinic_setup()
        setup = window.clinic_setup
        assert setup is not None and setup.isVisible()  # the admin of a clinic not yet set up
        window.shutdown()  # closing the program closes the set-up too (it is asked again next time)
        assert window.clinic_setup is None and not setup.isVisible()
        assert needs_clinic_setup(db)
    finally:
        db.close()
    demo = open_database(tmp_path / "demo.db")
    try:
        mark_demo_database(demo)
        create_demo_accounts(demo)
        assert not needs_clinic_setup(demo)
        window = MainWindow(demo, tmp_path / "demo.db", demo=True)
        qtbot.addWidget(window)
        window.set_user(get_user(demo, "admin"))
        window.offer_clinic_setup()
        assert window.clinic_setup is None
        window.shutdown()
    finally:
        demo.close()
