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
class InterruptedSession:
    """A session the program's stop cut short, in the words the chair and the notice use."""

    patient: clinic.Patient
    number: int | None
    planned_sessions: int | None
    started_at: str
    pulses_delivered: int
    pulses_planned: int | None

    def given(self) -> str:
        """What it delivered: "2,160 of 3,000 pulses (72 %)", or "no pulse"."""
        if self.pulses_delivered <= 0:
            return "before any pulse"
        if self.pulses_planned:
            share = self.pulses_delivered / self.pulses_planned * 100
            return f"after {self.pulses_delivered:,} of {self.pulses_planned:,} pulses ({share:.0f} %)"
        return f"after {self.pulses_delivered:,} pulses"

    def name(self) -> str:
        """ "session 3 of 36" (never the record's internal number)."""
        if self.number is None:
            return "a session"
        return f"session {self.number}" + (f" of {self.planned_sessions}" if self.planned_sessions else "")

    def when(self) -> str:
        return datetime.fromisoformat(self.started_at).astimezone().strftime("%d %b at %H:%M")


def _interrupted(db: sqlite_utils.Database, row: dict, patient: clinic.Patient) -> InterruptedSession:
    number = row["number_in_course"]
    if number is None and row["course_id"] is not None:  # older rows: its place among the given ones
        number = db.execute(
            """SELECT count(*) FROM sessions s WHERE s.course_id = ? AND s.started_at <= ?
               AND (s.status = 'completed' OR s.pulses_delivered > 0)""",
            [row["course_id"], row["started_at"]],
        ).fetchone()[0] or None
    return InterruptedSession(patient, number, row["planned_sessions"], row["started_at"],
                              int(row["pulses_delivered"] or 0), row["pulses_planned"])


_SESSION_SQL = """SELECT s.id, s.patient_id, s.course_id, s.status, s.number_in_course, s.started_at,
                         s.pulses_delivered, s.pulses_planned, c.planned_sessions
                  FROM sessions s LEFT JOIN courses c ON c.id = s.course_id"""


def last_interrupted(db: sqlite_utils.Database, course: clinic.Course, patient: clinic.Patient
                     ) -> InterruptedSession | None:
    """The course's latest session when a stop of the program interrupted it (None otherwise):
    the chair says so before the next one, instead of jumping to "Session 4" (issue 20, item 19)."""
    row = next(db.query(_SESSION_SQL + " WHERE s.course_id = ? ORDER BY s.started_at DESC, s.id DESC LIMIT 1",
                        [course.id]), None)
    if row is None or row["status"] != "interrupted":
        return None
    return _interrupted(db, row, patient)


def recovery_notice(db: sqlite_utils.Database, session_ids: list[int]) -> str:
    """The start-up notice for sessions a stop of the program left behind, by the patient's clinic id
    and session number (never the record's internal number), e.g. "patient MRN-1001, session 3 of 36
    begun 02 Dec at 10:41, stopped after 2,160 of 3,000 pulses (72 %)". The clinic id, not the name:
    the notice sits in the title bar before anyone has logged in, where a passer-by can read it; the
    Chair shows the name with the session once someone has."""
    parts = []
    for session_id in session_ids:
        row = next(db.query(_SESSION_SQL + " WHERE s.id = ?", [session_id]), None)
        if row is None:
            continue
        patient = clinic.get_patient(db, row["patient_id"])
        found = _interrupted(db, row, patient)
        parts.append(f"patient {patient.clinic_id}, {found.name()} begun {found.when()}, "
                     f"stopped {found.given()}")
    if not parts:
        return ("The program stopped during a session; everything recorded up to then is kept, "
                "and the review lists it.")
    return ("The program stopped during a session: " + "; ".join(parts) + ". Everything recorded up to "
            "then is kept; the Chair shows it with the patient.")


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
    interrupted: InterruptedSession | None = None
    """The course's latest session, when it was interrupted (a crash): shown, never passed over."""

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
    interrupted = last_interrupted(db, course, patient) if course is not None else None
    return CourseOverview(patient, course, protocol, gate.prescription, number, mt, age, remeasure,
                          tol_d, tol_a, list(gate.warnings), gate.blocker_messages, gate, interrupted)


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
