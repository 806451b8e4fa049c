"""The main window: log in, then the workspace of the person's role.

- technician: the chair (start of day -> checklist -> session -> end -> note);
- supervisor: the review queue, the chair, patients and courses;
- admin: patients and courses, accounts, clinic settings (and, on the first start of a
  clinic's database, the guided clinic set-up right after the admin account is made).

Screens by role are a table (``SCREENS``) of classes imported by name: a
screen that is not written yet is not listed, so a missing module fails at
import (and in the tests) instead of quietly leaving a tab out. The window also
owns the idle lock: after the clinic's idle minutes the screen locks (a
running session keeps recording; the lock cover shows its progress without
patient information) until the same person unlocks or another logs in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Final, Literal

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console import __version__
from console.clinic.clinic_setup import needs_clinic_setup
from console.clinic.idle_lock import IdleLock, idle_timeout_s
from console.clinic.settings import get_setting
from console.people.login import authenticate
from console.people.user import User
from console.store import Store
from console.sync.hub_sync import SETTING as HUB_SETTING
from console.sync.hub_sync import HubSync, hub_configured
from console.ui.chair.technician import TechnicianWorkspace
from console.ui.clinic.clinic_setup import ClinicSetupDialog
from console.ui.clinic.patients import PatientsPage
from console.ui.clinic.settings_screen import SettingsPage
from console.ui.people.accounts import AccountsPage
from console.ui.people.idle_watcher import IdleWatcher
from console.ui.people.lock_screen import LockScreen, connect_idle_lock
from console.ui.people.login import LoginDialog
from console.ui.review.review_window import ReviewWindow
from console.ui.widgets.application import running_app
from console.ui.widgets.screen_fit import PREFERRED, fit_to_screen

log = logging.getLogger(__name__)

TITLE = "TMS Session Console"

Screen = Callable[..., QWidget]
"""A screen class, built as ``Screen(db, user, parent=None)``."""

TITLE_MARGINS: Final = (16, 6, 16, 0)
"""The title bar's margins above the pages (in the tabs' row it has none above or below)."""

CHAIR: Final = "chair"
"""The technician's workspace: it needs the database file and the device address too."""

# role -> [(tab title, screen)], in tab order.
SCREENS: dict[str, list[tuple[str, Screen | Literal["chair"]]]] = {
    "technician": [("Chair", CHAIR)],
    "supervisor": [("Review", ReviewWindow), ("Chair", CHAIR), ("Patients", PatientsPage)],
    "physician": [("Review", ReviewWindow), ("Chair", CHAIR), ("Patients", PatientsPage)],
    "admin": [("Patients", PatientsPage), ("Accounts", AccountsPage), ("Settings", SettingsPage)],
}


class MainWindow(QMainWindow):
    """The program's one window; see the module docstring."""

    def __init__(self, db: Store | None = None, db_path: Path | str | None = None, *,
                 demo: bool = False, device_url: str | None = None) -> None:
        super().__init__()
        self.db = db
        self.db_path = Path(db_path) if db_path is not None else None
        self.demo = demo
        self.device_url = device_url
        self.user: User | None = None
        self.chair: TechnicianWorkspace | None = None
        self._hub_pages: list = []  # the review station's hub lists open now (their worker threads)
        self.login: LoginDialog | None = None
        self.clinic_setup: ClinicSetupDialog | None = None
        self.screens: list[tuple[str, QWidget]] = []
        """The open workspace's screens (tab title, widget), in tab order."""
        self.workspace: QWidget | None = None
        self.setWindowTitle(TITLE + (" — DEMO database" if demo else ""))
        self.setAccessibleName(TITLE)
        # The screen's usable part, never more: a 1280×720 display shows all of the window (issue 20).
        fit_to_screen(self, PREFERRED)

        self.top = QWidget(self)
        self.top.setAccessibleName("Title bar")
        self.title = QLabel(TITLE, self.top)
        self.title.setObjectName("hint")
        self.demo_mark = QLabel("DEMO DATABASE: made-up patients", self.top)
        self.demo_mark.setObjectName("demoMark")
        self.demo_mark.setVisible(demo)
        # The notice has a line of its own under the title bar and wraps: a long one never widens
        # the window past its screen (it pushed Stop and Pause off-screen, issue 20 item 7).
        self.notice_bar = QWidget(self)
        self.notice_bar.setAccessibleName("Notice bar")
        self.notice = QLabel("", self.notice_bar)
        self.notice.setObjectName("warning")
        self.notice.setAccessibleName("Notice")
        self.notice.setWordWrap(True)
        self.notice.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.notice.setMinimumWidth(200)
        self.notice_ok = QPushButton("OK", self.notice_bar)
        self.notice_ok.setObjectName("small")
        self.notice_ok.setAccessibleName("Hide the notice")
        self.notice_ok.setToolTip("Hide this notice (it stays in the log)")
        self.notice_ok.clicked.connect(self.hide_notice)
        notice_row = QHBoxLayout(self.notice_bar)
        notice_row.setContentsMargins(16, 4, 16, 0)
        notice_row.addWidget(self.notice, 1)
        notice_row.addWidget(self.notice_ok, 0, Qt.AlignmentFlag.AlignTop)
        self.notice_bar.setVisible(False)
        self.who = QLabel("", self.top)
        self.who.setObjectName("hint")
        self.who.setAccessibleName("Logged in as")
        self.lock_button = QPushButton("Lock   Ctrl+L", self.top)
        self.lock_button.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_button.setAccessibleName("Lock the screen")
        self.logout_button = QPushButton("Log out", self.top)
        self.logout_button.setAccessibleName("Log out")
        for button in (self.lock_button, self.logout_button):
            button.setObjectName("small")
        self.lock_button.clicked.connect(self.lock_now)
        self.logout_button.clicked.connect(self.log_out)
        bar = self._bar = QHBoxLayout(self.top)
        bar.setContentsMargins(*TITLE_MARGINS)
        bar.addWidget(self.title)
        bar.addWidget(self.demo_mark)
        # The clinic's hub (issue 18): this chair's sessions go there in the background; the line
        # says when they last did, or since when the hub is out of reach. None without a hub.
        self.hub_state = QLabel("", self.top)
        self.hub_state.setObjectName("hint")
        self.hub_state.setAccessibleName("Clinic hub")
        self.hub_state.setVisible(False)
        bar.addWidget(self.hub_state)
        bar.addStretch(1)
        bar.addWidget(self.who)
        bar.addWidget(self.lock_button)
        bar.addWidget(self.logout_button)
        self._start_hub_sync()

        self.pages = QStackedWidget(self)
        self.welcome = self._welcome_page()
        self.pages.addWidget(self.welcome)
        central = QWidget(self)
        layout = self._column = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.top)
        layout.addWidget(self.notice_bar)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self._show_user_controls(False)

        self.idle: IdleWatcher | None = None
        self.lock: LockScreen | None = None
        if db is not None:
            self.idle = IdleWatcher(IdleLock(idle_timeout_s(db)), parent=self)
            self.lock = LockScreen(self, self._authenticate)
            connect_idle_lock(self.idle, self.lock, lambda: self.user, self._user_after_unlock)

    # ---------------------------------------------------------------- pages
    def _welcome_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        title = QLabel(TITLE, page)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setObjectName("screenTitle")
        self.welcome_text = QLabel(f"version {__version__}", page)
        self.welcome_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome_text.setObjectName("hint")
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(self.welcome_text)
        layout.addStretch(1)
        return page

    def show_notice(self, text: str) -> None:
        """A line in the title bar for something the person should know once (no patient names)."""
        current = self.notice.text()
        self.notice.setText(f"{current}  {text}".strip())
        self.notice.setVisible(bool(self.notice.text()))
        self.notice_bar.setVisible(bool(self.notice.text()))

    def hide_notice(self) -> None:
        """The person has read the notice: its line goes, and the screen below gets the room back."""
        self.notice.setText("")
        self.notice_bar.setVisible(False)

    def _show_user_controls(self, visible: bool) -> None:
        self.who.setVisible(visible)
        self.lock_button.setVisible(visible)
        self.logout_button.setVisible(visible)

    # ---------------------------------------------------------------- login
    def start(self) -> None:
        """Ask who is there (the first start of a database asks for the admin account)."""
        if self.db is None:
            return
        if self.idle is not None:
            self.idle.install()
        self.ask_login()

    def ask_login(self) -> None:
        self.welcome_text.setText("Log in to continue.")
        self.pages.setCurrentWidget(self.welcome)
        self.login = LoginDialog(self._store()[0], self)
        self.login.accepted.connect(self._logged_in)
        self.login.rejected.connect(self._login_refused)
        self.login.open()

    def _logged_in(self) -> None:
        dialog, self.login = self.login, None
        if dialog is not None and dialog.user is not None:
            self.set_user(dialog.user)
            dialog.deleteLater()
            self.offer_clinic_setup()

    def offer_clinic_setup(self) -> None:
        """An admin on a clinic database whose set-up is not done yet is asked for it (issue 15)."""
        self.clinic_setup = None
        if self.db is None or self.user is None or self.user.role != "admin" or self.demo:
            return
        if not needs_clinic_setup(self.db):
            return
        self.clinic_setup = ClinicSetupDialog(self.db, self.user, self)
        self.clinic_setup.accepted.connect(self._clinic_set_up)
        self.clinic_setup.finished.connect(self._clinic_setup_closed)
        self.clinic_setup.open()

    def _clinic_set_up(self) -> None:
        """The set-up's values are saved: the Settings tab shows them."""
        for _, screen in self.screens:
            if isinstance(screen, SettingsPage):
                screen.form.load()

    def _clinic_setup_closed(self) -> None:
        """Saved or put off, the set-up dialog goes (a hidden one lingering would get a lock cover)."""
        dialog, self.clinic_setup = self.clinic_setup, None
        if dialog is not None:
            dialog.deleteLater()

    def _login_refused(self) -> None:
        self.login = None
        self.close()

    def _authenticate(self, username: str, password: str) -> User:
        return authenticate(self._store()[0], username, password)

    def _store(self) -> tuple[Store, Path]:
        """The database and its file: logins and workspaces need both (start() returns without them)."""
        if self.db is None or self.db_path is None:
            raise RuntimeError("this window was made without a database")
        return self.db, self.db_path

    # ------------------------------------------------------------ workspace
    def set_user(self, user: User) -> None:
        """Build the workspace of ``user``'s role."""
        self._clear_workspace()
        self.user = user
        self.who.setText(f"{user.full_name} ({user.role})")
        self._show_user_controls(True)
        tabs: list[tuple[str, QWidget]] = []
        for name, screen in SCREENS.get(user.role, []):
            if screen == CHAIR:
                self.chair = TechnicianWorkspace(*self._store(), user, device_url=self.device_url)
                self.chair.session_view.bridge.updated.connect(self._session_frame)
                self.chair.after_close = self._session_closed
                tabs.append((name, self.chair))
                continue
            try:
                tabs.append((name, screen(self.db, user, parent=None)))
            except Exception:
                # The other screens (the chair above all) stay usable; the person is told, not left guessing.
                log.exception("screen %s failed to open", name)
                self.show_notice(f"The {name} screen could not open (the log says why).")
        hub_page = self._hub_review_page(user)
        if hub_page is not None:
            tabs.insert(1, ("All chairs", hub_page))
        self.screens = tabs
        if len(tabs) == 1:
            workspace: QWidget = tabs[0][1]
        else:
            workspace = QTabWidget(self)
            workspace.setAccessibleName("Workspace")
            workspace.setDocumentMode(True)
            for name, widget in tabs:
                workspace.addTab(widget, name)
            if not tabs:
                workspace.addTab(QLabel("Nothing to show for this role.", workspace), "Welcome")
            # The title bar shares the tabs' row: the screens get that row's height (a 720 px
            # screen has none to spare, issue 20 item 7). It goes back above the pages at log-out.
            workspace.setCornerWidget(self.top, Qt.Corner.TopRightCorner)
            self._bar.setContentsMargins(16, 0, 8, 0)
            self.top.show()
        self.workspace = workspace
        self.pages.addWidget(workspace)
        self.pages.setCurrentWidget(workspace)
        if self.chair is not None:
            self.chair.show_day()
        log.info("%s (%s) works at the console", user.username, user.role)

    def _hub_review_page(self, user: User) -> QWidget | None:
        """The review station's list of every chair's sessions, for those who review, when this
        computer has the clinic's hub set up (else None: a lone chair shows nothing of it)."""
        if user.role not in ("supervisor", "physician") or self.db is None or self.db_path is None:
            return None
        try:
            conninfo = str(get_setting(self.db, HUB_SETTING) or "").strip()
            if not conninfo:
                return None
            from console.review.flags import flag_config
            from console.review.hub_station import station_id
            from console.ui.review.hub_review import HubReviewPage  # psycopg only when a hub is set

            page = HubReviewPage(conninfo, Path(self.db_path), station_id(self.db_path), user,
                                 flag_config(self.db))
        except Exception:
            log.exception("the hub's review list could not open")
            self.show_notice("The list of all chairs could not open (the log says why).")
            return None
        self._hub_pages.append(page)
        return page

    def _clear_workspace(self) -> None:
        for page in self._hub_pages:
            page.shutdown()
        self._hub_pages.clear()
        if self.clinic_setup is not None:  # log-out or closing: the set-up is asked again next time
            self.clinic_setup.reject()
        if self.chair is not None:
            self.chair.shutdown("logged out")
            self.chair = None
        workspace = self.workspace
        if self.top.parentWidget() is not self.centralWidget():
            self.top.setParent(self.centralWidget())
            self._column.insertWidget(0, self.top)
            self._bar.setContentsMargins(*TITLE_MARGINS)
            self.top.show()
        if workspace is not None:
            self.pages.removeWidget(workspace)
            workspace.deleteLater()
            self.workspace = None

    @property
    def session_active(self) -> bool:
        return self._running_chair() is not None

    def _running_chair(self) -> TechnicianWorkspace | None:
        """The chair workspace while it has a session open, else None."""
        chair = self.chair
        return chair if chair is not None and chair.runner is not None else None

    def _user_after_unlock(self, user: User) -> None:
        """Someone unlocked: the same person goes on; another person takes over the chair."""
        if self.user is not None and user.id == self.user.id:
            return
        chair = self._running_chair()
        if chair is not None and any(screen == CHAIR for _, screen in SCREENS.get(user.role, [])):
            # A hand-over mid-session: the run goes on; what follows is recorded as theirs.
            self.user = user
            chair.user = user
            chair.session_view.by = user.username
            self.who.setText(f"{user.full_name} ({user.role})")
            log.info("%s took over the running session", user.username)
            return
        self.set_user(user)

    def _session_frame(self, snap, _points) -> None:
        """While locked, the cover says how the session goes, without patient information."""
        if self.lock is None or not self.lock.is_locked():
            return
        if snap.state in ("armed", "running", "paused"):
            planned = f" of {snap.pulses_planned}" if snap.pulses_planned else ""
            words = f"Session {snap.state}: {snap.pulses_delivered}{planned} pulses"
            if not snap.device_connected:
                words += " (device connection lost)"
            elif snap.alarms:
                words += " (alarm: unlock to see)"
        else:
            words = ""
        self.lock.set_status(words)

    # ---------------------------------------------------------- lock / out
    def lock_now(self) -> None:
        if self.idle is not None and self.user is not None:
            self.idle.lock_now()

    def log_out(self) -> None:
        chair = self._running_chair()
        if chair is not None:
            chair.session_view.show_message("A session is open: stop it (F8) before logging out.")
            return
        self._clear_workspace()
        self.user = None
        self.who.setText("")
        self._show_user_controls(False)
        self.ask_login()

    def _start_hub_sync(self) -> None:
        """Push this chair's ended sessions to the clinic's hub in the background, when it has one
        (read at start: a hub set up later counts from the next start)."""
        self.hub: HubSync | None = None
        if self.db is None or self.db_path is None or not hub_configured(self.db):
            return
        self.hub = HubSync(self.db_path)
        self.hub.start()
        self._hub_timer = QTimer(self)
        self._hub_timer.setInterval(2000)
        self._hub_timer.timeout.connect(self._show_hub_state)
        self._hub_timer.start()
        self._show_hub_state()

    def _session_closed(self) -> None:
        """A session's record is final (called on its closing thread): the hub gets it now, not at
        the next interval. Only sets the sync thread's event: nothing here waits on the network."""
        hub = getattr(self, "hub", None)
        if hub is not None:
            hub.push_now()

    def _show_hub_state(self) -> None:
        if self.hub is None:
            return
        state = self.hub.status()
        words = state.words()
        self.hub_state.setText(words)
        self.hub_state.setToolTip(state.problem or "")
        self.hub_state.setVisible(bool(words))

    def shutdown(self, reason: str = "program closed") -> None:
        """Close every session and thread the window started."""
        for page in self._hub_pages:
            page.shutdown()
        self._hub_pages.clear()
        hub = getattr(self, "hub", None)
        if hub is not None:
            self._hub_timer.stop()
            hub.stop()
        if self.idle is not None:
            self.idle.remove()
        if self.lock is not None:
            # The program is closing: the cover stays, but it no longer filters the application's input.
            running_app().removeEventFilter(self.lock)
        if self.chair is not None:
            self.chair.shutdown(reason)
        self._clear_workspace()

    def closeEvent(self, event: QCloseEvent) -> None:
        chair = self._running_chair()
        if chair is not None:
            event.ignore()
            chair.session_view.show_message(
                "A session is open: stop it (F8) before closing the program."
            )
            return
        self.shutdown()
        super().closeEvent(event)
