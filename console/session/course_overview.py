"""What the technician is about to run, gathered once from the clinic's records:
patient, course, session number, protocol, prescription and motor threshold,
with the warnings to show and the problems that block a start (the start
gate's, console.safety.start_gate: one rule for the chair and ``record``).

Plain Python (no widgets) so the start-of-day screen, the checklist and the
session screen read the same facts, and tests can check them directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlite_utils

from console.clinic import records as clinic
from console.clinic.protocols import ProtocolSpec, preset
from console.clinic.settings import get_setting
from console.safety.start_gate import StartGate, gate_for_patient

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
    gate: StartGate | None = None
    """The start gate the warnings and blockers come from (None only in hand-made overviews)."""

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


def _days_since(iso: str, now: datetime) -> int:
    when = datetime.fromisoformat(iso)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, (now - when).days)


def overview_for(
    db: sqlite_utils.Database, patient: clinic.Patient, now: datetime | None = None
) -> CourseOverview:
    """Everything the start-of-day screen shows for ``patient``.

    The blockers and warnings are the start gate's (console.safety.start_gate), the same the
    technician's start procedure and the headless ``record`` act on.
    """
    now = now or datetime.now(UTC)
    remeasure = int(get_setting(db, "mt_remeasure_days"))
    tol_d = float(get_setting(db, "tol_distance_mm"))
    tol_a = float(get_setting(db, "tol_angle_deg"))
    course = clinic.active_course(db, patient.id)
    mt = clinic.latest_motor_threshold(db, patient.id)
    gate = gate_for_patient(db, patient.id, now=now)
    protocol = number = age = None
    if course is not None:
        protocol = preset(course.protocol)
        number = clinic.next_session_number(db, course.id)
    if mt is not None:
        age = _days_since(mt.measured_at, now)
    return CourseOverview(patient, course, protocol, gate.prescription, number, mt, age, remeasure,
                          tol_d, tol_a, list(gate.warnings), gate.blocker_messages, gate)


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
