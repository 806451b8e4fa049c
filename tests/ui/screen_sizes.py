"""Every screen at 1280×720 and at 1920×1080, as PNGs, checked as they are taken.

One command (offscreen, about a minute)::

    python -m tests.ui.screen_sizes docs/screenshots

For each size it runs itself again on an offscreen screen of exactly that size (Qt's offscreen
platform reads the screen from a JSON file: ``QT_QPA_PLATFORM=offscreen:configfile=…``), so the
program sizes its windows from a real screen's available geometry, with its own ScreenFitter
installed as console.ui.app installs it. Each screen is saved as ``<screen>-<W>x<H>.png`` and
checked with tests/ui/fit_check.py; what does not fit is printed (and the exit status is 1), so a
picture is never taken of a screen that hides its buttons without saying so.

The data are made up: a clinic with a technician, a supervisor and an admin, one patient with an
open course, recorded sessions written the way the engine writes them (tests/note/recorded.py),
and a demo database for the log-in screen with an account locked.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIZES = ((1280, 720), (1920, 1080))
RECOVERY_NOTICE = (  # console.session.course_overview.recovery_notice, for two sessions: its longest
    "The program stopped during a session: patient MRN-1001, session 3 of 36 begun 02 Dec at 10:41, "
    "stopped after 2,160 of 3,000 pulses (72 %); patient MRN-1003, session 12 of 36 begun 02 Dec at "
    "10:44, stopped after 120 of 600 pulses (20 %). Everything recorded up to then is kept; the Chair "
    "shows it with the patient.")


def _screen_file(folder: Path, width: int, height: int) -> Path:
    path = folder / f"screen-{width}x{height}.json"
    path.write_text(json.dumps({"screens": [{"name": "screen", "x": 0, "y": 0, "width": width,
                                             "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                             "dpr": 1}]}))
    return path


def main(out: Path) -> int:
    """Run one child per screen size; 0 when every screen fit."""
    out.mkdir(parents=True, exist_ok=True)
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in SIZES:
            screen = _screen_file(Path(tmp), width, height)
            env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screen}")
            done = subprocess.run([sys.executable, "-m", "tests.ui.screen_sizes", "--child", str(out)],
                                  cwd=ROOT, env=env, check=False)
            status = status or done.returncode
    print(f"screenshots in {out}" + ("" if status == 0 else " (some screens do not fit: see above)"))
    return status


# ----------------------------------------------------------------------------- the child


def _quiet_offscreen(_kind: object, _context: object, message: str) -> None:
    """The offscreen platform says at every window that it cannot pass size hints on: not news."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def child(out: Path) -> int:
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication, QWidget

    from console.clinic.records import create_patient, open_course
    from console.note.assembly import build_note
    from console.people import login as people_login
    from console.people import passwords
    from console.people.admin import create_demo_accounts, mark_demo_database
    from console.people.login import LOCKOUT_ATTEMPTS, AuthError, authenticate
    from console.people.user import get_user
    from console.ui.clinic.course_editor import CourseEditorDialog
    from console.ui.main_window import MainWindow
    from console.ui.note.note_view import NoteDialog
    from console.ui.people.login import LoginDialog
    from console.ui.widgets.screen_fit import ScreenFitter, available_geometry
    from console.ui.widgets.theme import apply_style
    from db.database import open_database
    from tests.conftest import fast_password_hasher
    from tests.note.recorded import START, record_session
    from tests.ui.conftest import make_clinic
    from tests.ui.fit_check import fit_problems, settle

    qInstallMessageHandler(_quiet_offscreen)
    passwords.HASHER = fast_password_hasher()
    people_login._dummy_hash = None
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_style(app)
    app.installEventFilter(ScreenFitter(app))
    area = available_geometry(None)
    size = f"{area.width()}x{area.height()}"
    failures: list[str] = []

    def take(widget: QWidget, name: str, settle_s: float = 0.3) -> None:
        settle(settle_s)
        window = widget.window()
        widget.grab().save(str(out / f"{name}-{size}.png"))
        problems = fit_problems(window, area)
        failures.extend(f"{name} at {size}: {p}" for p in problems)
        print(f"{name}-{size}.png" + ("" if not problems else f"  DOES NOT FIT ({len(problems)})"))

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # ------------------------------------------------------------ log in, account locked
        demo = open_database(folder / "demo.db")
        mark_demo_database(demo)
        create_demo_accounts(demo)
        for _ in range(LOCKOUT_ATTEMPTS):
            with contextlib.suppress(AuthError):
                authenticate(demo, "technician", "not the password")
        login = LoginDialog(demo)
        login.show()
        login.username.setText("technician")
        login.password.setText("demo-technician")
        login.submit()
        take(login, "login-locked")
        login.close()
        demo.close()

        # ------------------------------------------------------------ a clinic with sessions
        clinic = make_clinic(folder / "clinic.db")
        db = clinic.db
        course = db.execute("SELECT id FROM courses WHERE patient_id = ?", [clinic.patient.id]).fetchone()[0]
        sessions = [record_session(db, clinic.patient.id, course, number=n, started=START + timedelta(days=n))
                    for n in (1, 2)]
        sessions.append(record_session(
            db, clinic.patient.id, course, number=3, started=START + timedelta(days=3), status="stopped",
            end_reason="Patient asked to stop: headache worse than last week, rated 8 of 10", delivered=120,
            events=[("side_effect", "headache", {"rating": 8, "note": "worse than last week"})]))
        other = create_patient(db, "P-1002", "Maria-Fernanda Gonzalez-Rodriguez de la Cruz", "1975-05-05")
        open_course(db, other.id, "accel-itbs", 120.0)

        # ------------------------------------------------------------ the technician
        window = MainWindow(db, clinic.path, demo=True)
        window.show_notice(RECOVERY_NOTICE)
        window.show()
        window.set_user(clinic.technician)
        chair = window.chair
        take(window, "tech-start-of-day")
        chair.start_page.search.setText("P-1001")
        chair.start_page.refresh()
        settle()
        chair.start_page.begin()
        settle()
        if chair.currentWidget() is chair.checklist:
            take(window, "tech-checklist")
            for item in chair.checklist.items:
                (item.yes if "no" in item.note_on else item.no).setChecked(True)
            chair.checklist.proceed.click()
        chair.setCurrentWidget(chair.session_view)
        take(window, "tech-live-ready")
        chair.show_note(sessions[-1])
        take(window, "tech-note", 0.6)
        window.hide_notice()
        take(window, "tech-note-notice-hidden")
        assert window.lock is not None
        window.lock.lock(clinic.technician)
        take(window, "lock-screen")
        window.lock.try_unlock("tina", "tina's long password")
        window.shutdown()
        window.close()

        # ------------------------------------------------------------ the supervisor
        window = MainWindow(db, clinic.path)
        window.show()
        window.set_user(clinic.supervisor)
        tabs = window.workspace
        take(window, "sup-review")
        review = window.screens[0][1]
        review.filters.review.setCurrentIndex(review.filters.review.findData("all"))
        review.queue.select_session(sessions[-1])
        take(window, "sup-review-stopped-session")
        tabs.setCurrentIndex(2)
        patients = window.screens[2][1]
        take(window, "sup-patients")
        editor = CourseEditorDialog(db, clinic.supervisor, other.id, patients)
        editor.show()
        editor.percent_mt.setText("200")
        take(editor, "course-editor-warning")
        editor.close()
        window.shutdown()
        window.close()

        # ------------------------------------------------------------ admin
        admin = get_user(db, "admin")
        window = MainWindow(db, clinic.path)
        window.show()
        window.set_user(admin)
        take(window, "admin-patients")
        window.shutdown()
        window.close()

        # ------------------------------------------------------------ the note and its print preview
        note = NoteDialog(build_note(db, sessions[-1]))
        note.show()
        take(note, "note-dialog")
        preview = note.view.make_preview_dialog()
        preview.open()
        take(preview, "print-preview", 0.8)
        preview.reject()
        note.close()
        db.close()

    for line in failures:
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--child":
        sys.path.insert(0, str(ROOT))
        sys.exit(child(Path(args[1])))
    sys.exit(main(Path(args[0]) if args else ROOT / "docs" / "screenshots"))

