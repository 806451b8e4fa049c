"""What the technician is about to run, gathered once from the clinic's records:
patient, course, session number, protocol, prescription and motor threshold,
with the warnings to show and the problems that block a start.

Plain Python (no widgets) so the start-of-day screen, the checklist and the
session screen read the same facts, and tests can check them directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlite_utils

from console.clinic import records as clinic
from console.clinic.motor_threshold import mt_flags
from console.clinic.protocols import ProtocolSpec, preset
from console.clinic.settings import get_setting
from console.safety import schedule, screening

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CourseOverview:
    patient: clinic.Patient
    course: clinic.Course | None
    protocol: ProtocolSpec | None
    prescription: clinic.Prescription | None
    session_number: int | None
    mt: clinic.MotorThreshold | None
    mt_age_days: int | None
    mt_remeasure_days: int
    tol_distance_mm: float
    tol_angle_deg: float
    warnings: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)

    @property
    def prescribed_mso(self) -> int | None:
        return self.prescription.mso if self.prescription else None

    @property
    def can_start(self) -> bool:
        return not self.blockers

    def title(self) -> str:
        """One line for the top of the session screen: who and which session."""
        parts = [self.patient.clinic_id, self.patient.initials]
        if self.course and self.session_number:
            parts.append(f"Session {self.session_number} of {self.course.planned_sessions}")
        if self.protocol:
            parts.append(self.protocol.name)
        return " · ".join(p for p in parts if p)


def _minutes(wait: timedelta) -> str:
    minutes = max(1, round(wait.total_seconds() / 60))
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _days_since(iso: str, now: datetime) -> int:
    when = datetime.fromisoformat(iso)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, (now - when).days)


def overview_for(
    db: sqlite_utils.Database, patient: clinic.Patient, now: datetime | None = None
) -> CourseOverview:
    """Everything the start-of-day screen shows for ``patient``."""
    now = now or datetime.now(UTC)
    remeasure = int(get_setting(db, "mt_remeasure_days"))
    tol_d = float(get_setting(db, "tol_distance_mm"))
    tol_a = float(get_setting(db, "tol_angle_deg"))
    course = clinic.active_course(db, patient.id)
    mt = clinic.latest_motor_threshold(db, patient.id)
    warnings: list[str] = []
    blockers: list[str] = []
    protocol = prescription = number = age = None
    if course is None:
        blockers.append("No open treatment course: a supervisor opens one before the first session.")
    else:
        protocol = preset(course.protocol)
        if protocol is None:
            blockers.append(f"The course's protocol {course.protocol!r} is not among the clinic's presets.")
        # The safety screening gates every session of the course (issue 8): an absolute
        # contraindication without a supervisor's signed clearance, or no screening, blocks.
        blockers.extend(screening.course_start_blockers(db, patient.id, today=now.astimezone().date()))
        wait = schedule.next_session_countdown(db, course.id, now)
        if wait:
            at = (now + wait).astimezone().strftime("%H:%M")
            warnings.append(
                f"Next session of the day from {at} (in {_minutes(wait)}): the schedule keeps "
                f"sessions apart; starting sooner asks for a reason."
            )
        prescription = clinic.prescription(db, course.id)
        number = clinic.next_session_number(db, course.id)
        if number > course.planned_sessions:
            warnings.append(
                f"All {course.planned_sessions} planned sessions of this course are done; "
                f"this would be session {number}."
            )
    if mt is None:
        blockers.append("No motor threshold recorded: measure it before the first session.")
    else:
        age = _days_since(mt.measured_at, now)
        # The clinic's MT rules (age, change from the previous) live in the domain.
        warnings.extend(mt_flags(db, patient.id, now.astimezone().date()))
    if prescription is not None and prescription.mso is not None and not prescription.deliverable:
        blockers.append(
            f"The prescription gives {prescription.mso} % MSO, above the device's maximum output."
        )
    return CourseOverview(patient, course, protocol, prescription, number, mt, age, remeasure, tol_d, tol_a,
                       warnings, blockers)


def todays_patients(
    db: sqlite_utils.Database, now: datetime | None = None
) -> list[tuple[clinic.Patient, bool]]:
    """Patients with an open course (the chair's day list), and whether each was treated today."""
    now = (now or datetime.now(UTC)).astimezone()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC).isoformat()
    rows = db.query(
        """SELECT p.*, EXISTS (SELECT 1 FROM sessions s WHERE s.patient_id = p.id AND s.started_at >= ?)
                  AS seen_today
           FROM patients p WHERE EXISTS (SELECT 1 FROM courses c WHERE c.patient_id = p.id
                                         AND c.status = 'open')
           ORDER BY seen_today, p.name, p.clinic_id""",
        [midnight],
    )
    return [
        (clinic.Patient(r["id"], r["uuid"], r["clinic_id"], r["name"], r["date_of_birth"], r["initials"]),
         bool(r["seen_today"]))
        for r in rows
    ]
