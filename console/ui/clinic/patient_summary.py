"""The right-hand panel of the patients screen: one patient's course, screening, motor threshold,
schedule and outcomes, in words, with what needs doing shown as a warning."""

from __future__ import annotations

import logging
from datetime import date

from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from console.clinic import motor_threshold, outcomes
from console.clinic import records as clinic
from console.clinic.protocols import protocol_name as preset_name
from console.safety import schedule, screening
from console.safety.start_gate import Blocker
from console.session.course_overview import last_interrupted
from console.store import Store
from console.ui.widgets.form_dialog import label, restyle

log = logging.getLogger(__name__)


def protocol_name(key: str) -> str:
    """The preset's name ("10 Hz rTMS left DLPFC") for its key, or the key when it is not a preset."""
    return preset_name(key)


def schedule_words(day: schedule.DayPlan) -> str:
    """Sessions given so far, today's included: the schedule counts those before the day apart,
    which read "0 of 36 given" beside two sessions done today (issue 20, item 16)."""
    given = day.sessions_given + day.done
    phase = f"; phase: {day.phase}" if day.phase else ""
    return f"{given} of {day.sessions_planned} sessions given{phase}"


def today_line(day: schedule.DayPlan) -> str:
    """Today's sessions against the plan, never "2 of 1 planned"."""
    if day.done > day.planned:
        planned = f"{day.planned} planned" if day.planned else "none planned"
        return f"Today: {day.done} given ({planned})"
    if day.planned:
        return f"Today: {day.done} of {day.planned} planned"
    return ""


class PatientSummary(QFrame):
    def __init__(self, db: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.db = db
        layout = QVBoxLayout(self)
        self.header = label("Choose a patient", self, "screenTitle")
        self.course = label("", self, "subValue")
        self.course.setAccessibleName("Course")
        self.screening = label("", self, "hint")
        self.screening.setAccessibleName("Screening")
        self.mt = label("", self, "hint")
        self.mt.setAccessibleName("Motor threshold")
        self.plan = label("", self, "hint")
        self.plan.setAccessibleName("Schedule")
        self.outcomes = label("", self, "hint")
        self.outcomes.setAccessibleName("Outcomes")
        for caption, widget in (
            ("COURSE", self.course),
            ("SAFETY SCREENING", self.screening),
            ("MOTOR THRESHOLD", self.mt),
            ("SCHEDULE", self.plan),
            ("OUTCOMES", self.outcomes),
        ):
            if caption != "COURSE":
                layout.addWidget(label(caption, self, "caption"))
            else:
                layout.addWidget(self.header)
                layout.addWidget(label(caption, self, "caption"))
            layout.addWidget(widget)
        layout.addStretch(1)

    def clear(self) -> None:
        self.header.setText("Choose a patient")
        for widget in (self.course, self.screening, self.mt, self.plan, self.outcomes):
            widget.setText("")

    def show_patient(self, patient_id: int, today: date | None = None) -> None:
        today = today or date.today()
        p = clinic.get_patient(self.db, patient_id)
        dob = f", born {p.date_of_birth}" if p.date_of_birth else ""
        self.header.setText(f"{p.clinic_id} — {p.name}{dob}")
        course = clinic.active_course(self.db, patient_id)
        self._show_course(course)
        blockers = screening.course_start_blockers(self.db, patient_id, today=today)
        if blockers:
            restyle(self.screening, "warning")
            # Each with who clears it and where (issue 20, item 17), as at the Chair.
            self.screening.setText("\n".join(f"• {Blocker('screening', b).with_remedy()}" for b in blockers))
        else:
            s = screening.latest_screening(self.db, patient_id)
            cleared = screening.clearances(self.db, patient_id)
            extra = (
                f"; clearance signed by {cleared[0]['signed_by']}"
                if cleared and s and cleared[0]["screening_id"] == s.id
                else ""
            )
            restyle(self.screening, "hint")
            self.screening.setText(
                f"Screened {s.at[:10]} by {s.by_user}{extra}: nothing blocks the course." if s else ""
            )
        self._show_mt(patient_id, course, today)
        self._show_plan(course, today)
        self._show_outcomes(course)

    def _show_course(self, course: clinic.Course | None) -> None:
        if course is None:
            self.course.setText("No open course.")
            return
        method = f" by {course.targeting_method}" if course.targeting_method else ""
        self.course.setText(
            f"{protocol_name(course.protocol)} at {course.percent_mt:g} % MT, {course.target}{method}\n"
            f"{course.indication}; {course.schedule} schedule, {course.planned_sessions} sessions planned; "
            f"opened {course.opened_at[:10]}"
        )

    def _show_mt(self, patient_id: int, course: clinic.Course | None, today: date) -> None:
        flags = motor_threshold.mt_flags(self.db, patient_id, today)
        mts = motor_threshold.measurements(self.db, patient_id)
        lines = []
        if mts:
            lines.append(f"{mts[0].mso:g} % MSO ({mts[0].method}, {mts[0].measured_at[:10]})")
            if course is not None:
                rx = clinic.prescription(self.db, course.id)
                lines.append(f"Prescription: {rx.percent_mt:g} % MT = {rx.mso} % MSO")
        if not mts:  # the missing MT blocks the start: say who records it
            flags = [Blocker("no_motor_threshold", f).with_remedy() for f in flags]
        lines += [f"• {f}" for f in flags]
        restyle(self.mt, "warning" if flags else "hint")
        self.mt.setText("\n".join(lines))

    def _show_plan(self, course: clinic.Course | None, today: date) -> None:
        if course is None:
            self.plan.setText("")
            return
        try:
            day = schedule.sessions_due(self.db, course.id, today)
            missed = schedule.missed_sessions(self.db, course.id, today)
        except Exception as exc:  # a broken clinic file must not hide the rest of the record
            log.exception("schedule not shown")
            self.plan.setText(f"The schedule cannot be shown: {exc}")
            return
        lines = [schedule_words(day)]
        if today_words := today_line(day):
            lines.append(today_words)
        if missed:
            days = sorted(set(missed))
            shown = ", ".join(d.strftime("%a %d %b") for d in days[-5:])
            lines.append(f"Missed: {len(missed)} session{'s' if len(missed) != 1 else ''} ({shown})")
        stopped = last_interrupted(self.db, course, clinic.get_patient(self.db, course.patient_id))
        if stopped is not None:  # said here too, not only at the Chair (issue 20, item 19)
            lines.append(f"Last: {stopped.name()}, begun {stopped.when()}, interrupted {stopped.given()}.")
        restyle(self.plan, "warning" if missed or stopped else "hint")
        self.plan.setText("\n".join(lines))

    def _show_outcomes(self, course: clinic.Course | None) -> None:
        if course is None:
            self.outcomes.setText("")
            return
        lines = []
        for instrument in outcomes.INSTRUMENTS:
            o = outcomes.course_outcomes(self.db, course.id, instrument)
            if o.baseline is None:
                continue
            text = f"{instrument}: baseline {o.baseline}, latest {o.latest}"
            if o.percent_change is not None and len(o.series) > 1:
                text += f" ({o.percent_change:+.0f} %)"
            if o.response is not None:
                text += "; response" if o.response else "; no response yet"
                text += ", remission" if o.remission else ""
            lines.append(text)
        if outcomes.phq9_due(self.db, course.id, date.today()):
            lines.append("PHQ-9 due")
        self.outcomes.setText("\n".join(lines) or "No outcome measures yet.")
