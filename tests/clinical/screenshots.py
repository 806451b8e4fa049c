"""Grab the clinical screens offscreen to PNGs in docs/screenshots/ (a demo database in a
temporary folder, fictitious people): ``QT_QPA_PLATFORM=offscreen python -m tests.clinical.screenshots``."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QWidget

from console.clinic import outcomes
from console.clinic import records as clinic
from console.people import passwords
from console.people.admin import create_user
from console.safety import screening
from console.ui.chair.adverse_event_dialog import AdverseEventDialog
from console.ui.clinic.course_editor import CourseEditorDialog
from console.ui.clinic.mt_dialog import MtDialog
from console.ui.clinic.patients import PatientsPage
from console.ui.clinic.phq9_dialog import Phq9Dialog
from console.ui.clinic.screening_dialog import ClearanceDialog, ScreeningDialog
from console.ui.widgets.theme import apply_style
from db.database import new_uuid, open_database, to_utc_iso
from tests.conftest import fast_password_hasher

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def clinic_user(db, name: str):
    from console.people.user import get_user
    return get_user(db, name)


def grab(widget: QWidget, name: str, app: QApplication) -> Path:
    widget.show()
    for _ in range(5):
        app.processEvents()
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    widget.close()
    return path


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_style(app)
    passwords.HASHER = fast_password_hasher()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "demo.db")
        admin = create_user(db, None, "ada", "Ada Admin", "admin", "admin-pass-1")
        sue = create_user(db, admin, "sue", "Dr. Sue Super", "supervisor", "super-pass-1")
        tom = create_user(db, admin, "tom", "Tom Tech", "technician", "tech-pass-1")
        create_user(db, admin, "phil", "Dr. Phil Physician", "physician", "physician-pass-1")
        jane = clinic.create_patient(db, "P-0042", "Jane Q. Roe", "1980-04-23")
        clinic.create_patient(db, "P-0043", "Omar Haddad", "1969-11-02")
        clinic.create_patient(db, "P-0051", "Mei Lin", "1991-06-15")
        start = datetime.now() - timedelta(days=23)
        clinic.record_motor_threshold(db, jane.id, 50, "EMG", start - timedelta(days=35), "tom")
        clinic.record_motor_threshold(db, jane.id, 45, "EMG", start - timedelta(days=1), "tom")
        course = clinic.open_course(db, jane.id, protocol="10hz", percent_mt=120, targeting_method="Beam F3")
        answers = {i.id: "no" for i in screening.load_questionnaire().items}
        screening.record_screening(
            db, tom, jane.id, answers | {"medications": "yes"}, {"medications": "sertraline 100 mg"}
        )
        day = start
        missed = next(d for d in (start + timedelta(days=n) for n in range(7, 14)) if d.weekday() == 2)
        while day.date() < datetime.now().date():
            if day.weekday() < 5 and day.date() != missed.date():
                db.execute(
                    "INSERT INTO sessions (uuid, patient_id, course_id, status, started_at, device_url, "
                    "pulses_delivered) VALUES (?, ?, ?, 'completed', ?, 'sim://', 3000)",
                    [new_uuid(), jane.id, course.id, to_utc_iso(day.replace(hour=9, minute=0))],
                )
            day += timedelta(days=1)
        for week, items in enumerate(
            ([3, 3, 2, 2, 2, 2, 2, 1, 0], [2, 2, 2, 2, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1, 0, 0])
        ):
            outcomes.record_phq9(db, tom, jane.id, course.id, items, taken_at=start + timedelta(weeks=week))

        page = PatientsPage(db, sue)
        page.resize(1400, 800)
        page.select_patient(jane.id)
        print(grab(page, "patients", app))

        omar = clinic.find_patient(db, "P-0043")
        editor = CourseEditorDialog(db, sue, omar.id)
        editor.percent_mt.setValue(130)
        print(grab(editor, "course-editor", app))

        form = ScreeningDialog(db, tom, omar.id)
        form.resize(900, 900)
        for row in form.rows:
            (row.yes if row.item.id in ("pacemaker", "previous_mri") else row.no).click()
        form.rows[[r.item.id for r in form.rows].index("previous_mri")].note.setText("2019, no problems")
        print(grab(form, "screening", app))
        form.try_save()
        clearance = ClearanceDialog(db, omar.id)
        clearance.username.setText("phil")
        clearance.reason.setText("Cardiology letter of 2026-02-01: device cleared for TMS")
        print(grab(clearance, "clearance", app))

        mt = MtDialog(db, tom, jane.id)
        mt.value.setText("52")
        print(grab(mt, "motor-threshold", app))

        phq = Phq9Dialog(db, tom, jane.id, course.id)
        for group, value in zip(phq.groups, [2, 1, 1, 2, 1, 1, 1, 0, 1], strict=True):
            group.button(value).click()
        phq.try_save()
        phq.resize(1000, 900)
        print(grab(phq, "phq9-item9-prompt", app))

        event = AdverseEventDialog(db, tom, jane.id, course_id=course.id)
        event.resize(900, 820)
        print(grab(event, "adverse-event", app))

        # Issue 14: a checklist answer for a physician holds the course (Hold for the physician),
        # the physician's review lifts it; a safety-limit override is the physician's to sign.
        from console.safety.checklist_holds import keep_checklist
        from console.ui.chair.checklist import ChecklistPage
        from console.ui.chair.start_checks import PhysicianOverrideDialog
        from console.ui.clinic.hold_review_dialog import HoldReviewDialog

        page = ChecklistPage()
        page.resize(1280, 720)
        page.begin("P-0042 J.Q.R. · Session 17")
        for item in page.items:
            (item.yes if item.item_id == "self_harm_thoughts" or "no" in item.note_on else item.no).click()
            if item.needs_note:
                item.note.setText("said 'sometimes, not today'; no plan")
        print(grab(page, "checklist-hold-for-physician", app))
        keep_checklist(db, tom, jane.id, course.id, [a.as_dict() for a in (i.result() for i in page.items)])
        review = HoldReviewDialog(db, clinic_user(db, "phil"), jane.id)
        review.decision.setText("Seen today: passive thoughts, safety plan agreed; go on")
        print(grab(review, "hold-review-checklist", app))
        override = PhysicianOverrideDialog(
            ["130 % MT is above the clinic's maximum of 120 % MT.",
             "A 4.0 s train at 10 Hz is longer than the clinic's limit of 2.9 s (Wassermann 1998, Table 4)."],
            lambda *_: 0)
        override.username.setText("phil")
        override.reason.setText("Titration agreed with the patient; EEG in the room")
        print(grab(override, "physician-override", app))
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
