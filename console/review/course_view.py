"""A course at a glance, for review: its sessions in order, MT history, PHQ-9 with response and remission.

Sessions carry what the review list shows (pulses, on-target share, flags,
sign-off), read through console.review.queue so both agree. The PHQ-9 series and
the response and remission thresholds come from console.clinic.outcomes (the
clinic's thresholds); the motor thresholds are the patient's, marked when
they fall inside the course.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from console.clinic.outcomes import CourseOutcomes, course_outcomes
from console.clinic.protocols import preset
from console.clinic.records import MotorThreshold, motor_thresholds
from console.errors import ClinicError
from console.review.queue import QueueRow, ReviewFilter, find_sessions, rows_for

log = logging.getLogger(__name__)


@dataclass
class CourseView:
    course: dict[str, Any]
    patient: dict[str, Any]
    sessions: list[QueueRow]
    """Every session of the course in order (number, then start)."""
    thresholds: list[MotorThreshold]
    """The patient's motor thresholds, oldest first."""
    phq9: CourseOutcomes
    notes: list[str] = field(default_factory=list)

    @property
    def sessions_done(self) -> int:
        return sum(1 for s in self.sessions if s.status == "completed" or s.pulses_delivered > 0)

    @property
    def pulses_delivered(self) -> int:
        return sum(s.pulses_delivered for s in self.sessions)

    @property
    def signed(self) -> int:
        return sum(1 for s in self.sessions if s.signed)

    def title(self) -> str:
        p, c = self.patient, self.course
        spec = preset(c["protocol"])
        protocol = spec.name if spec else c["protocol"]
        target = "" if c["target"].casefold() in protocol.casefold() else f" · {c['target']}"
        return (f"{p['clinic_id']} ({p['initials']}) · {protocol}{target} · "
                f"{self.sessions_done} of {c['planned_sessions']} sessions")

    def phq9_words(self) -> str:
        o = self.phq9
        if o.baseline is None:
            return "No PHQ-9 recorded in this course."
        words = f"PHQ-9 baseline {o.baseline}"
        if o.latest is not None and len(o.series) > 1:
            words += f", latest {o.latest}"
            if o.percent_change is not None:
                words += f" ({o.percent_change:+.0f} %)"
            if o.response:
                words += "; response threshold reached"
            if o.remission:
                words += "; remission threshold reached"
        return words + "."


def course_view(db: sqlite_utils.Database, course_id: int) -> CourseView:
    """The course's review picture, or ClinicError when there is no such course."""
    course = next(db.query("SELECT * FROM courses WHERE id = ?", [course_id]), None)
    if course is None:
        raise ClinicError(f"There is no course with record number {course_id}.")
    patient = next(db.query("SELECT id, clinic_id, initials FROM patients WHERE id = ?",
                            [course["patient_id"]]))
    in_order = ReviewFilter(review="all", course_id=course_id, sort="session", descending=False)
    listed = find_sessions(db, in_order)
    sessions = rows_for(db, listed, 0, len(listed))
    thresholds = motor_thresholds(db, course["patient_id"])
    return CourseView(course, patient, sessions, thresholds, course_outcomes(db, course_id, "PHQ-9"))


def epoch(iso: str) -> float:
    """A stored time as seconds since 1970 (for date axes)."""
    return datetime.fromisoformat(iso).timestamp()
