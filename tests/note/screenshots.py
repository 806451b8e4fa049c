"""Render the handoff note in the PHQ-9 item 9 cases to PNGs (issue 14, item 3), for docs and for a
person to look at: ``python -m tests.note.screenshots docs/screenshots``.

Each case is a real database, a real recorded session and the real PDF writer; the first page of
the PDF becomes ``note-item9-<case>.png`` through poppler's pdftoppm.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from console.clinic import outcomes
from console.note.assembly import build_note
from console.people import passwords
from console.people.admin import create_user
from console.ui.note.note_pdf import write_pdf_headless
from tests.conftest import fast_password_hasher
from tests.note.recorded import (
    START,
    add_patient_and_course,
    add_phq9,
    make_db,
    record_session,
    set_setting,
)

LAST_WEEK = START - timedelta(days=7)
ITEM9_NEARLY_EVERY_DAY = [2, 2, 2, 2, 1, 1, 1, 1, 3]
CASES: dict[str, tuple[list[tuple[datetime, list[int]]], bool]] = {
    "last-week-nobody-told": ([(LAST_WEEK, ITEM9_NEARLY_EVERY_DAY)], False),
    "last-week-told": ([(LAST_WEEK, ITEM9_NEARLY_EVERY_DAY)], True),
    "none-recorded": ([], False),
    "today-0-after-last-week-3": (
        [(LAST_WEEK, ITEM9_NEARLY_EVERY_DAY), (START - timedelta(hours=1), [1] * 8 + [0])], False),
}


def render(name: str, phq9: list[tuple[datetime, list[int]]], told: bool, out: Path) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="note-shot-"))
    db = make_db(folder / "clinic.db")
    patient, course = add_patient_and_course(db)
    set_setting(db, "clinic_name", "Riverside TMS Clinic")
    set_setting(db, "clinic_phone", "555-0142")
    set_setting(db, "supervising_physician", "Dr. Priya Natarajan")
    for taken, items in phq9:
        add_phq9(db, patient, course, taken, items)
    if told:
        admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
        tech = create_user(db, admin, "jrivera", "Jamie Rivera", "technician", "tech-pass-1")
        outcome_id = db.execute("SELECT max(id) FROM outcomes").fetchone()[0]
        outcomes.record_item9_notification(db, tech, outcome_id, "Dr. Priya Natarajan",
                                           told_at=LAST_WEEK + timedelta(minutes=10))
    session = record_session(db, patient, course, number=5, started=START, technician="Jamie Rivera")
    pdf = folder / "note.pdf"
    write_pdf_headless(build_note(db, session), pdf, "a4")
    target = out / f"note-item9-{name}"
    page_one = ["-f", "1", "-l", "1", "-singlefile"]
    subprocess.run(["pdftoppm", "-png", "-r", "80", *page_one, str(pdf), str(target)], check=True)
    return target.with_suffix(".png")


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    passwords.HASHER = fast_password_hasher()
    for name, (phq9, told) in CASES.items():
        print(render(name, phq9, told, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
