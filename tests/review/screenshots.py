"""Screenshots of the review workspace for docs/screenshots/ (run: python -m tests.review.screenshots).

The queue and a session's detail come from the tests' database of simulator
recordings (every flag); the course view from the clinic-year generator, one
full course with its PHQ-9 series and a motor-threshold re-measure.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from bench.clinic_year import generate
from console.people import login as people_login
from console.people import passwords
from console.people.user import get_user
from console.review.signoff import add_addendum, sign_session
from console.ui.review.course_view import CourseWindow
from console.ui.review.review_window import ReviewWindow
from console.ui.widgets.theme import apply_style
from db.database import open_database
from tests.conftest import fast_password_hasher
from tests.review.flag_db import PASSWORDS, build

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def settle(app: QApplication, rounds: int = 10) -> None:
    for _ in range(rounds):
        app.processEvents()


def main() -> int:
    passwords.HASHER = fast_password_hasher()
    people_login._dummy_hash = None
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_style(app)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ids = build(folder / "clinic.db", folder)
        db = open_database(folder / "clinic.db")
        users = {name: get_user(db, name) for name in PASSWORDS}
        sign_session(db, users["sue"], ids["clean"], PASSWORDS["sue"], "approved", "Uneventful session.")
        sign_session(db, users["sam"], ids["drift"], PASSWORDS["sam"], "reviewed",
                     "Drift mid-run; the technician re-positioned the coil within 20 s.")
        add_addendum(db, users["tom"], ids["drift"], "Patient reported mild scalp soreness the next morning.",
                     PASSWORDS["tom"])
        window = ReviewWindow(db, users["sue"])
        window.resize(1600, 950)
        window.show()
        settle(app)
        window.grab().save(str(OUT / "review_queue.png"))
        window.filters.review.setCurrentIndex(window.filters.review.findData("all"))
        window.queue.select_session(ids["drift"])
        settle(app)
        window.grab().save(str(OUT / "session_detail.png"))
        window.detail.tabs.setCurrentIndex(3)
        settle(app)
        window.grab().save(str(OUT / "session_detail_history.png"))
        window.close()
        db.close()

        year = folder / "course.db"
        generate(year, chairs=1, per_day=2, days=45, seed=7)
        db = open_database(year)
        course = db.execute("SELECT course_id FROM sessions GROUP BY course_id HAVING count(*) >= 36 "
                            "ORDER BY course_id LIMIT 1").fetchone()[0]
        course_window = CourseWindow(db, course)
        course_window.resize(1400, 900)
        course_window.show()
        settle(app)
        course_window.grab().save(str(OUT / "course_view.png"))
        course_window.close()
        db.close()
    print(f"screenshots written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
