"""Patients, courses and motor thresholds: the clinic's records around the sessions.

Plain Python over the database, no Qt. Every function that writes does so in
one ``db.atomic()`` block of its own, so the audit log can join the same
transaction with one line. Mistakes a person can make (a clinic id already
taken, a threshold of 0, an unknown protocol) raise :class:`ClinicError` with
a message meant for that person; nothing is silently corrected.

The prescribed device intensity is ``floor(MT x %MT / 100)`` from the latest
motor threshold, rounded down so the delivered dose never exceeds the
prescription (57 % MSO x 120 % MT = 68.4 -> 68 % MSO, 119.3 % MT; rounding
half up gave up to 120.9 % MT under a 120 % ceiling), computed in decimal so
0.1-steps never round the wrong way.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal

import sqlite_utils

from console.errors import ClinicError
from console.resource_data import load as load_json
from db.database import inserted_id, new_uuid, to_utc_iso, utc_now

METHODS = ("EMG", "visual")
SCHEDULES = ("acute", "maintenance", "accelerated")
DEFAULT_INDICATION = "major depressive disorder"
POSE_KEYS = ("x", "y", "z", "qw", "qx", "qy", "qz")


MAX_MSO = 100
"""A stimulator's maximum output, by the definition of % MSO: nothing above it can be delivered."""

PERCENT_MT_RANGE = (1, 200)
"""The prescribed % MT a course form accepts: bounds against typing mistakes, not clinical advice
(the clinic's safety limits, resources/safety_limits.json, are the clinical rule). The record
itself takes anything above 0 up to the same maximum."""
PLANNED_SESSIONS_RANGE = (1, 1000)
"""The planned sessions a course form accepts: bounds against typing mistakes."""

@dataclass(frozen=True)
class Patient:
    id: int
    uuid: str
    clinic_id: str
    name: str
    date_of_birth: str | None
    initials: str


@dataclass(frozen=True)
class Course:
    id: int
    uuid: str
    patient_id: int
    indication: str
    protocol: str
    target: str
    targeting_method: str | None
    target_pose: dict | None
    percent_mt: float
    planned_sessions: int
    schedule: str
    status: str
    opened_at: str
    close_reason: str | None = None
    closed_at: str | None = None


@dataclass(frozen=True)
class MotorThreshold:
    id: int
    patient_id: int
    mso: float
    method: str
    measured_at: str
    measured_by: str | None
    device_model: str | None = None
    """The stimulator it was measured on (None: recorded before the program asked)."""
    coil_type: str | None = None
    """The coil type it was measured with: an MT holds for that coil only (issue 14, item 6)."""


@dataclass(frozen=True)
class Prescription:
    """What the device should be set to for a course, and from which measurement."""

    mt_mso: float | None
    percent_mt: float
    mso: int | None  # None until a motor threshold has been measured
    mt_measured_at: str | None

    @property
    def effective_percent_mt(self) -> float | None:
        """The % MT the prescribed device setting actually delivers (never above ``percent_mt``)."""
        return effective_percent_mt(self.mso, self.mt_mso)

    @property
    def deliverable(self) -> bool:
        """False when there is no threshold yet or the result exceeds the device's maximum output."""
        return self.mso is not None and self.mso <= MAX_MSO


# -- patients ------------------------------------------------------------------

def initials_of(name: str) -> str:
    """Initials for the note and the screen: "Jane Q. Doe" -> "JQD", "Doe, Jane" -> "JD".

    Every word and every part of a hyphenated name counts ("Mary-Jane Roe" ->
    "MJR"); "Last, First" is read as First Last.
    """
    if "," in name:
        last, _, first = name.partition(",")
        name = f"{first} {last}"
    parts = [p for p in re.split(r"[\s\-]+", name) if p]
    letters = []
    for part in parts:
        first_letter = next((c for c in part if c.isalpha()), None)
        if first_letter:
            letters.append(first_letter.upper())
    return "".join(letters)


def _patient(row: dict) -> Patient:
    return Patient(row["id"], row["uuid"], row["clinic_id"], row["name"], row["date_of_birth"],
                   row["initials"])


def _clean_dob(date_of_birth: date | str | None) -> str | None:
    if date_of_birth is None or date_of_birth == "":
        return None
    if isinstance(date_of_birth, datetime):
        date_of_birth = date_of_birth.date()
    if isinstance(date_of_birth, str):
        try:
            date_of_birth = date.fromisoformat(date_of_birth.strip())
        except ValueError:
            raise ClinicError(f"Date of birth {date_of_birth!r} is not a date like 1980-04-23.") from None
    if date_of_birth > date.today():
        raise ClinicError("The date of birth is in the future.")
    if date_of_birth.year < 1900:
        raise ClinicError("The date of birth is before 1900; check the year.")
    return date_of_birth.isoformat()


def create_patient(db: sqlite_utils.Database, clinic_id: str, name: str,
                   date_of_birth: date | str | None = None) -> Patient:
    """Register a patient; the clinic id must be new (regardless of capitals)."""
    clinic_id = (clinic_id or "").strip()
    name = " ".join((name or "").split())
    if not clinic_id:
        raise ClinicError("Enter the patient's clinic id.")
    if not name:
        raise ClinicError("Enter the patient's name.")
    initials = initials_of(name)
    if not initials:
        raise ClinicError(f"The name {name!r} has no letters to take initials from.")
    dob = _clean_dob(date_of_birth)
    existing = find_patient(db, clinic_id)
    if existing is not None:
        raise ClinicError(f"A patient with clinic id {existing.clinic_id} already exists.")
    try:
        with db.atomic():
            patient_id = inserted_id(db.execute(
                "INSERT INTO patients (uuid, clinic_id, name, date_of_birth, initials, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [new_uuid(), clinic_id, name, dob, initials, utc_now()],
            ))
    except sqlite3.IntegrityError:  # registered at another chair a moment ago
        raise ClinicError(f"A patient with clinic id {clinic_id} already exists.") from None
    return get_patient(db, patient_id)


def get_patient(db: sqlite_utils.Database, patient_id: int) -> Patient:
    row = next(db.query("SELECT * FROM patients WHERE id = ?", [patient_id]), None)
    if row is None:
        raise ClinicError(f"There is no patient with record number {patient_id}.")
    return _patient(row)


def find_patient(db: sqlite_utils.Database, clinic_id: str) -> Patient | None:
    """The patient with this clinic id (capitals and surrounding spaces ignored), or None."""
    row = next(db.query("SELECT * FROM patients WHERE clinic_id = ?", [(clinic_id or "").strip()]), None)
    return _patient(row) if row else None


def _fold(text: str | None) -> str:
    """Text for matching: case and accents ignored ("Émile" matches "emile")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def search_patients(db: sqlite_utils.Database, text: str, limit: int = 50) -> list[Patient]:
    """Patients whose clinic id or name contains every word of ``text``, best matches first.

    Case and accents are ignored. An exact clinic id comes first, then clinic
    ids starting with the text, then the rest by name. Empty text lists
    patients by name.
    """
    words = [_fold(w) for w in (text or "").split()]
    db.conn.create_function("tms_fold", 1, _fold, deterministic=True)
    where, params = [], []
    for word in words:
        where.append("(instr(tms_fold(clinic_id), ?) > 0 OR instr(tms_fold(name), ?) > 0)")
        params += [word, word]
    needle = _fold(text.strip()) if text else ""
    sql = (
        "SELECT *, CASE WHEN tms_fold(clinic_id) = ? THEN 0 "
        "WHEN instr(tms_fold(clinic_id), ?) = 1 THEN 1 ELSE 2 END AS rank FROM patients"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY rank, tms_fold(name), clinic_id LIMIT ?"
    )
    rows = db.query(sql, [needle, needle or "\x00", *params, int(limit)])
    return [_patient(r) for r in rows]


# -- courses -------------------------------------------------------------------

def _course(row: dict) -> Course:
    return Course(
        id=row["id"], uuid=row["uuid"], patient_id=row["patient_id"], indication=row["indication"],
        protocol=row["protocol"], target=row["target"], targeting_method=row["targeting_method"],
        target_pose=json.loads(row["target_pose"]) if row["target_pose"] else None,
        percent_mt=row["percent_mt"], planned_sessions=row["planned_sessions"], schedule=row["schedule"],
        status=row["status"], opened_at=row["opened_at"], close_reason=row["close_reason"],
        closed_at=row["closed_at"],
    )


def _clean_pose(pose: dict | None) -> dict | None:
    if pose is None:
        return None
    try:
        clean = {k: float(pose[k]) for k in POSE_KEYS}
    except (KeyError, TypeError, ValueError):
        raise ClinicError(f"A target pose needs numbers for {', '.join(POSE_KEYS)}.") from None
    if not all(math.isfinite(v) for v in clean.values()):
        raise ClinicError("A target pose must be made of finite numbers.")
    norm = math.sqrt(sum(clean[k] ** 2 for k in ("qw", "qx", "qy", "qz")))
    if abs(norm - 1.0) > 0.01:
        raise ClinicError(f"The target orientation is not a unit quaternion (length {norm:.3f}).")
    return clean


def open_course(db: sqlite_utils.Database, patient_id: int, protocol: str, percent_mt: float,
                planned_sessions: int = 36, schedule: str = "acute", target: str = "left DLPFC",
                targeting_method: str | None = None, target_pose: dict | None = None,
                indication: str = DEFAULT_INDICATION) -> Course:
    """Open a treatment course; a patient has at most one open course at a time.

    ``protocol`` is a preset key of resources/protocols.json ("10hz", "itbs", ...).
    The bounds checked here catch typing mistakes; they are not clinical advice.
    """
    patient = get_patient(db, patient_id)
    presets = load_json("protocols.json")["presets"]
    if protocol not in presets:
        raise ClinicError(f"Unknown protocol {protocol!r}; choose one of {', '.join(presets)}.")
    if isinstance(percent_mt, bool) or not isinstance(percent_mt, int | float) \
            or not math.isfinite(percent_mt) or not 0 < percent_mt <= PERCENT_MT_RANGE[1]:
        raise ClinicError("The prescribed intensity must be a number of % MT above 0 and at most "
                          f"{PERCENT_MT_RANGE[1]}.")
    if isinstance(planned_sessions, bool) or not isinstance(planned_sessions, int) \
            or not PLANNED_SESSIONS_RANGE[0] <= planned_sessions <= PLANNED_SESSIONS_RANGE[1]:
        raise ClinicError("Planned sessions must be a whole number from "
                          f"{PLANNED_SESSIONS_RANGE[0]} to {PLANNED_SESSIONS_RANGE[1]}.")
    if schedule not in SCHEDULES:
        raise ClinicError(f"Unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}.")
    target = (target or "").strip()
    indication = (indication or "").strip()
    if not target:
        raise ClinicError("Enter the stimulation target.")
    if not indication:
        raise ClinicError("Enter the indication for the course.")
    pose = _clean_pose(target_pose)
    current = active_course(db, patient.id)
    if current is not None:
        raise ClinicError(
            f"Patient {patient.clinic_id} already has an open course (opened {current.opened_at[:10]}); "
            "close it before opening another."
        )
    try:
        with db.atomic():
            course_id = inserted_id(db.execute(
                "INSERT INTO courses (uuid, patient_id, indication, protocol, target, targeting_method, "
                "target_pose, percent_mt, planned_sessions, schedule, status, opened_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)",
                [new_uuid(), patient.id, indication, protocol, target, targeting_method,
                 json.dumps(pose) if pose else None, float(percent_mt), planned_sessions, schedule,
                 utc_now()],
            ))
    except sqlite3.IntegrityError:  # opened at another chair a moment ago
        raise ClinicError(f"Patient {patient.clinic_id} already has an open course.") from None
    return get_course(db, course_id)


def close_course(db: sqlite_utils.Database, course_id: int, reason: str) -> Course:
    """Close an open course (completed, stopped early...), with the reason in words."""
    course = get_course(db, course_id)
    if course.status != "open":
        raise ClinicError("This course is already closed.")
    reason = (reason or "").strip()
    if not reason:
        raise ClinicError("Say why the course is being closed.")
    with db.atomic():
        db.execute(
            "UPDATE courses SET status = 'closed', close_reason = ?, closed_at = ? WHERE id = ?",
            [reason, utc_now(), course.id],
        )
    return get_course(db, course.id)


def get_course(db: sqlite_utils.Database, course_id: int) -> Course:
    row = next(db.query("SELECT * FROM courses WHERE id = ?", [course_id]), None)
    if row is None:
        raise ClinicError(f"There is no course with record number {course_id}.")
    return _course(row)


def active_course(db: sqlite_utils.Database, patient_id: int) -> Course | None:
    """The patient's open course, or None."""
    row = next(db.query("SELECT * FROM courses WHERE patient_id = ? AND status = 'open'", [patient_id]), None)
    return _course(row) if row else None


def courses_of(db: sqlite_utils.Database, patient_id: int) -> list[Course]:
    """All the patient's courses, newest first."""
    rows = db.query("SELECT * FROM courses WHERE patient_id = ? ORDER BY opened_at DESC, id DESC",
                    [patient_id])
    return [_course(r) for r in rows]


# -- motor thresholds ----------------------------------------------------------

def _threshold(row: dict) -> MotorThreshold:
    return MotorThreshold(row["id"], row["patient_id"], row["mso"], row["method"], row["measured_at"],
                          row["measured_by"], row.get("device_model"), row.get("coil_type"))


def record_motor_threshold(db: sqlite_utils.Database, patient_id: int, mso: float, method: str,
                           measured_at: datetime | str | None = None,
                           measured_by: str | None = None, *, device_model: str | None = None,
                           coil_type: str | None = None) -> MotorThreshold:
    """Record a resting motor threshold measurement (in % MSO, by EMG or visible twitch), with
    the stimulator and coil type it was measured on (an MT holds for that coil only)."""
    patient = get_patient(db, patient_id)
    if isinstance(mso, bool) or not isinstance(mso, int | float) or not math.isfinite(mso) \
            or not 0 < mso <= MAX_MSO:
        raise ClinicError(f"The motor threshold must be a number of % MSO above 0 and at most {MAX_MSO}.")
    by_name = {m.casefold(): m for m in METHODS}
    method_clean = by_name.get((method or "").strip().casefold())
    if method_clean is None:
        raise ClinicError(f"The method must be one of {', '.join(METHODS)}.")
    if measured_at is None or measured_at == "":
        when = utc_now()
    else:
        try:
            when = to_utc_iso(measured_at)
        except ValueError as exc:
            raise ClinicError(f"The measurement time: {exc}.") from None
        if when > utc_now():
            raise ClinicError("The measurement time is in the future.")
    measured_by = (measured_by or "").strip() or None
    device_model = (device_model or "").strip() or None
    coil_type = (coil_type or "").strip() or None
    with db.atomic():
        mt_id = inserted_id(db.execute(
            "INSERT INTO motor_thresholds (patient_id, mso, method, measured_at, measured_by, device_model, "
            "coil_type) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [patient.id, float(mso), method_clean, when, measured_by, device_model, coil_type],
        ))
    return _threshold(next(db.query("SELECT * FROM motor_thresholds WHERE id = ?", [mt_id])))


def latest_motor_threshold(db: sqlite_utils.Database, patient_id: int) -> MotorThreshold | None:
    """The most recent measurement by when it was measured (not when it was typed in)."""
    row = next(db.query(
        "SELECT * FROM motor_thresholds WHERE patient_id = ? ORDER BY measured_at DESC, id DESC LIMIT 1",
        [patient_id],
    ), None)
    return _threshold(row) if row else None


def motor_thresholds(db: sqlite_utils.Database, patient_id: int) -> list[MotorThreshold]:
    """The patient's measurement history, oldest first."""
    rows = db.query("SELECT * FROM motor_thresholds WHERE patient_id = ? ORDER BY measured_at, id",
                    [patient_id])
    return [_threshold(r) for r in rows]


def prescribed_mso(mt_mso: float, percent_mt: float) -> int:
    """floor(MT x %MT / 100) in decimal arithmetic: the highest device setting whose dose is not
    above the prescription (rounding to nearest could deliver more than prescribed)."""
    exact = Decimal(str(mt_mso)) * Decimal(str(percent_mt)) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_FLOOR))


def effective_percent_mt(mso: int | None, mt_mso: float | None) -> float | None:
    """The % MT a device setting delivers for this motor threshold (device % MSO / MT x 100);
    None when either is unknown. Safety checks compare it; words show it to 0.1 %."""
    if mso is None or not mt_mso:
        return None
    return float(Decimal(mso) * Decimal(100) / Decimal(str(mt_mso)))


def prescription(db: sqlite_utils.Database, course_id: int) -> Prescription:
    """The course's intensity in % MSO from the patient's latest motor threshold.

    ``mso`` is None when no threshold has been measured; it is reported as
    computed even above 100 % MSO (see ``Prescription.deliverable``).
    """
    course = get_course(db, course_id)
    mt = latest_motor_threshold(db, course.patient_id)
    if mt is None:
        return Prescription(None, course.percent_mt, None, None)
    return Prescription(mt.mso, course.percent_mt, prescribed_mso(mt.mso, course.percent_mt), mt.measured_at)


def next_session_number(db: sqlite_utils.Database, course_id: int) -> int:
    """The number the next session of the course will carry (1 for the first).

    A session counts once the patient received stimulation: it completed, or
    it delivered at least one pulse (a session stopped, aborted or interrupted
    part-way still counts; one that ended before any pulse does not).
    """
    get_course(db, course_id)
    count = db.execute(
        """SELECT count(*) FROM sessions s WHERE s.course_id = ?
           AND (s.status = 'completed' OR s.pulses_delivered > 0
                OR EXISTS (SELECT 1 FROM pulses p WHERE p.session_id = s.id))""",
        [course_id],
    ).fetchone()[0]
    return count + 1
