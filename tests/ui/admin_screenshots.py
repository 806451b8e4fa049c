"""Screenshots of the first start and the admin's screens: ``python -m tests.ui.admin_screenshots
[OUT_DIR]`` (offscreen, a few seconds; default docs/screenshots).

A new database: the first-admin dialog, the guided clinic set-up, then the Accounts screen with a
technician and a physician and the Settings screen, each at 1280×720 with the clinic's look.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QWidget

from console.people.admin import create_user
from console.people.login import AuthError, authenticate
from console.ui.main_window import MainWindow
from console.ui.widgets.screen_fit import PREFERRED, ScreenFitter, fit_to_screen
from console.ui.widgets.theme import apply_style
from db.database import open_database
from tests.ui.fit_check import SIZES, area_of

ROOT = Path(__file__).resolve().parents[2]


def settle(seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def wait(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the screen did not get there in time")
        QApplication.processEvents()
        time.sleep(0.01)


def save(widget: QWidget, out: Path, name: str) -> None:
    settle()
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(path)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    area = area_of(SIZES["1280x720"])
    app.installEventFilter(ScreenFitter(app, available=area))
    apply_style(app)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clinic.db"
        db = open_database(path)
        window = MainWindow(db, path)
        fit_to_screen(window, PREFERRED, area)
        window.show()
        window.start()
        wait(lambda: window.login is not None and window.login.isVisible())
        login = window.login
        login.full_name.setText("Ada Admin")
        login.username.setText("ada")
        for field in (login.password, login.repeat):
            field.setText("Harbour-Lantern-Quill-73")
        save(login, out, "admin-first-start")
        login.submit()
        wait(lambda: window.clinic_setup is not None and window.clinic_setup.isVisible())
        setup = window.clinic_setup
        setup.settings.fields["clinic_name"].setText("Lakeside TMS Clinic")
        setup.settings.fields["clinic_phone"].setText("555 0100")
        setup.settings.fields["supervising_physician"].setText("Dr. Rosa Reyes")
        save(setup, out, "admin-clinic-setup")
        setup.try_save()
        wait(lambda: not setup.isVisible())
        admin = window.user
        assert admin is not None
        tech = create_user(db, admin, "tina", "Tina Tech", "technician", "Maple-Orbit-Thistle-58",
                           must_change_password=True)
        create_user(db, admin, "phil", "Dr Phil Physician", "physician", "Granite-Willow-Comet-19",
                    must_change_password=True)
        create_user(db, admin, "sue", "Sue Super", "supervisor", "Copper-Meadow-Falcon-62")
        for _ in range(10):
            with contextlib.suppress(AuthError):
                authenticate(db, "sue", "a wrong password")
        del tech
        window.set_user(admin)  # the list read again, with the new accounts
        accounts = dict(window.screens)["Accounts"]
        window.workspace.setCurrentWidget(accounts)
        accounts.choose("tina")
        accounts.message.setText("Account tina (Technician) created.")
        save(window, out, "admin-accounts-1280x720")
        settings = dict(window.screens)["Settings"]
        window.workspace.setCurrentWidget(settings)
        settings.form.fields["phq9_interval_days"].setText("500")
        settings.save()
        save(window, out, "admin-settings-1280x720")
        window.shutdown()
        window.close()
        db.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
