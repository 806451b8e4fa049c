"""What a new session is recorded against, read from the clinic's records.

The patient's course gives the protocol, the target pose and the prescribed
% MT; the latest motor threshold turns that into % MSO; the clinic settings
give the on-target tolerances and the pose thinning. All of it is copied
into the session row when the session starts (a snapshot), so a later change
of the course or the settings never rewrites what a past session was
recorded against.
"""

from __future__ import annotations

import logging
from typing import TypedDict

import sqlite_utils

from console.clinic.protocols import preset
from console.clinic.records import Patient, active_course, get_course, next_session_number, prescription
from console.clinic.settings import get_setting
from console.errors import ClinicError
from console.geometry import PoseValue
from console.session.runner import SessionPlan

log = logging.getLogger(__name__)


class _SettingTerms(TypedDict):
    """The recording terms that come from the clinic settings (same names in both)."""

    tol_distance_mm: float
    tol_angle_deg: float
    pose_thin_mm: float
    pose_thin_deg: float
    pose_keep_hz: float
    tracker_pose_max_age_ms: int


def _setting_terms(db: sqlite_utils.Database) -> _SettingTerms:
    def value(key: str) -> float:
        return float(get_setting(db, key))

    return _SettingTerms(
        tol_distance_mm=value("tol_distance_mm"), tol_angle_deg=value("tol_angle_deg"),
        pose_thin_mm=value("pose_thin_mm"), pose_thin_deg=value("pose_thin_deg"),
        pose_keep_hz=value("pose_keep_hz"),
        tracker_pose_max_age_ms=int(value("tracker_pose_max_age_ms")),
    )


def plan_session(
    db: sqlite_utils.Database, patient: Patient, *, course_id: int | None = None,
    technician: str | None = None,
) -> SessionPlan:
    """The plan for the patient's next session: of ``course_id``, else of the open course.

    Raises ClinicError when ``course_id`` is not one of this patient's courses
    or is closed, and when the patient has no open course: no session is
    recorded without a course (its protocol, prescription and screening are
    what the start gate checks), whoever asks for the plan.
    """
    course = None
    if course_id is not None:
        course = get_course(db, course_id)
        if course.patient_id != patient.id:
            raise ClinicError(f"Course {course_id} is not a course of patient {patient.clinic_id}.")
        if course.status != "open":
            raise ClinicError(f"Course {course_id} of patient {patient.clinic_id} is closed.")
    else:
        course = active_course(db, patient.id)
    settings = _setting_terms(db)
    technician = (technician or "").strip() or None
    if course is None:
        raise ClinicError(f"Patient {patient.clinic_id} has no open treatment course: a supervisor "
                          "opens one before the first session.")
    rx = prescription(db, course.id)
    target = PoseValue.from_mapping(course.target_pose) if course.target_pose else None
    return SessionPlan(
        patient_id=patient.id,
        course_id=course.id,
        number_in_course=next_session_number(db, course.id),
        technician=technician,
        protocol=preset(course.protocol),
        load_protocol=True,
        mt_mso=rx.mt_mso,
        percent_mt=rx.percent_mt,
        prescribed_mso=rx.mso if rx.deliverable else None,
        target=target,
        **settings,
    )
