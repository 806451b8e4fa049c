"""Demo data: a database a person can open and explore, made the real way.

Every session in it is recorded from the simulated device through a real
pseudo-terminal, the serial adapter, the SessionRunner and the writer, at
high simulator speed — exactly the path a clinic's sessions take. Patients,
courses, screenings, motor thresholds, PHQ-9 scores, side effects and
observations are entered through the same audited domain functions the
screens use, by the demo accounts. Nothing is written behind the program's back.

The database is marked as a demo database, so the login screen shows the
demo accounts and their passwords (and a clinic's real database can never be
turned into one).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from console.clinic import outcomes, patient_records, settings
from console.clinic.records import Patient, find_patient
from console.people.admin import DEMO_ACCOUNTS, create_demo_accounts, mark_demo_database
from console.people.user import User, get_user
from console.resource_data import load as load_json
from console.review import signoff
from console.safety import screening
from console.session import entries as session_entries
from console.session.plan import plan_session
from console.session.runner import SessionRunner
from db.database import open_database
from devices.registry import create_adapter
from devices.sim.process import SimulatorProcess

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoSession:
    """One session to record: the simulator's run and what the technician adds."""

    protocol: str
    scenarios: tuple[str, ...] = ()
    seed: int = 1
    side_effects: tuple[tuple[str, int], ...] = ()
    note: str | None = None
    stop_after_pulses: int | None = None  # the technician stops the run early
    observation: dict[str, str] = field(default_factory=dict)
    sign: str | None = None  # "reviewed" / "approved": the supervisor signs it


@dataclass(frozen=True)
class DemoPatient:
    clinic_id: str
    name: str
    date_of_birth: str
    protocol: str
    percent_mt: float
    mt_mso: float
    mt_method: str
    schedule: str
    planned_sessions: int
    phq9_weekly: tuple[tuple[int, ...], ...]
    sessions: tuple[DemoSession, ...]


def _phq9(total: int, item9: int = 0) -> tuple[int, ...]:
    """Nine item answers (0-3) adding up to ``total`` with item 9 as given."""
    items = [0] * 9
    items[8] = item9
    left = total - item9
    for i in range(8):
        take = min(3, left)
        items[i] = take
        left -= take
    return tuple(items)


PATIENTS: tuple[DemoPatient, ...] = (
    DemoPatient(
        "MRN-1001", "Maria Lopez", "1978-03-14", "10hz", 120, 52, "EMG", "acute", 36,
        (_phq9(19), _phq9(17), _phq9(15), _phq9(12)),
        (
            DemoSession("10hz", seed=11, side_effects=(("scalp discomfort", 3),),
                        observation={"mood": "brighter than last week",
                                     "patient_said": "I actually went for a walk on Sunday.",
                                     "technician_saw": "Chatty, made eye contact, tapped foot during trains.",
                                     "wants_to_work_on": "keeping the walks going"},
                        sign="approved"),
            DemoSession("10hz", scenarios=("drift",), seed=12,
                        side_effects=(("headache", 4),),
                        note="Coil slipped mid-session; repositioned at the mark.",
                        observation={"mood": "tired", "patient_said": "Slept badly, neighbours again.",
                                     "technician_saw": "Yawning, quiet."}),
        ),
    ),
    DemoPatient(
        "MRN-1002", "James Carter", "1965-11-02", "itbs", 120, 48, "visual", "acute", 36,
        (_phq9(22, 1), _phq9(20), _phq9(16), _phq9(13), _phq9(9)),
        (
            DemoSession("itbs", seed=21, side_effects=(("facial twitch", 2),),
                        observation={"mood": "hopeful", "patient_said": "My daughter noticed I'm calmer.",
                                     "wants_to_work_on": "calling my brother"}, sign="reviewed"),
            DemoSession("itbs", scenarios=("noise",), seed=22),
            DemoSession("itbs", scenarios=("overheat",), seed=23, side_effects=(("headache", 7),),
                        observation={"mood": "flat", "patient_said": "Bit of a headache, I'll be fine.",
                                     "technician_saw": "Rubbing temple after the run."}),
        ),
    ),
    DemoPatient(
        "MRN-1003", "Aiko Tanaka", "1990-07-21", "dash", 120, 55, "EMG", "acute", 36,
        (_phq9(16),),
        (
            DemoSession("itbs", scenarios=("tracker-loss",), seed=31,
                        observation={"mood": "anxious before, settled after",
                                     "patient_said": "The clicking is easier today."}),
            DemoSession("itbs", seed=32, stop_after_pulses=240,
                        side_effects=(("dizziness", 5),),
                        note="Patient asked to stop: felt light-headed. Seated 10 min, resolved."),
        ),
    ),
    DemoPatient(
        "MRN-1004", "Samuel Okafor", "1958-01-30", "accel-itbs", 90, 60, "EMG", "accelerated", 50,
        (_phq9(24, 1), _phq9(14)),
        (DemoSession("itbs", scenarios=("unplug",), seed=41),),
    ),
)


def _say(progress: Callable[[str], None] | None, text: str) -> None:
    log.info(text)
    if progress:
        progress(text)


def build_demo_database(
    db_path: Path | str, *, speed: float = 1000.0, progress: Callable[[str], None] | None = None,
    patients: tuple[DemoPatient, ...] = PATIENTS,
) -> list[int]:
    """Fill a new database at ``db_path`` with the demo; returns the recorded session ids.

    The demo's scenarios (noise, unplug, ...) make the recorder log the warnings it
    would log at a chair; they are the point of the demo, so they are held back here
    below ERROR and the progress lines say what is happening instead.
    """
    db_path = Path(db_path)
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))
    try:
        return _build(db_path, speed, progress, patients)
    finally:
        root.setLevel(level)


def _build(db_path: Path, speed: float, progress: Callable[[str], None] | None,
           patients: tuple[DemoPatient, ...]) -> list[int]:
    db = open_database(db_path)
    try:
        mark_demo_database(db)
        create_demo_accounts(db)
        _set_clinic_contacts(db, _user(db, "admin"))
        tech = _user(db, "technician")
        supervisor = _user(db, "supervisor")
        session_ids: list[int] = []
        for spec in patients:
            _say(progress, f"demo: patient {spec.clinic_id}")
            patient = _enter_patient(db, spec, tech, supervisor)
            for n, session in enumerate(spec.sessions):
                _say(progress, f"demo:   recording {session.protocol} session {n + 1} "
                               f"{' '.join(session.scenarios)}".rstrip())
                # One a day, the last one yesterday: a person opening the demo starts today's
                # session without a physician's signature for a session beyond the day's plan.
                day = _demo_day(len(spec.sessions) - n)
                sid = _record(db, db_path, patient, session, tech, speed, day)
                _after_session(db, sid, session, tech, supervisor)
                session_ids.append(sid)
        return session_ids
    finally:
        db.close()


DEMO_CLINIC = {"clinic_name": "Demo TMS Clinic", "clinic_phone": "555-0100 (demo)",
               "supervising_physician": "Dr. Pat Physician (demo)"}
"""The demo clinic's contact settings: a note is not printed until the phone and the supervising
physician are set (issue 14, item 9), so the demo sets them, as a clinic's admin would."""


def _set_clinic_contacts(db: sqlite_utils.Database, admin: User) -> None:
    for key, value in DEMO_CLINIC.items():
        settings.change_setting(db, admin, key, value)


def _user(db: sqlite_utils.Database, username: str) -> User:
    user = get_user(db, username)
    if user is None:  # pragma: no cover - create_demo_accounts made it
        raise RuntimeError(f"demo account {username} is missing")
    return user


def _enter_patient(db: sqlite_utils.Database, spec: DemoPatient, tech: User, supervisor: User) -> Patient:
    patient = find_patient(db, spec.clinic_id) or patient_records.create_patient(
        db, supervisor, spec.clinic_id, spec.name, spec.date_of_birth
    )
    questionnaire = screening.load_questionnaire()
    screening.record_screening(db, tech, patient.id, {item.id: "no" for item in questionnaire.items})
    now = datetime.now(UTC)
    weeks = len(spec.phq9_weekly)
    patient_records.record_motor_threshold(
        db, tech, patient.id, spec.mt_mso, spec.mt_method, measured_at=now - timedelta(days=7 * weeks + 1)
    )
    target = load_json("simulator.json")["target"]
    course = patient_records.open_course(
        db, supervisor, patient.id, protocol=spec.protocol, percent_mt=spec.percent_mt,
        planned_sessions=spec.planned_sessions, schedule=spec.schedule,
        targeting_method="neuronavigation",
        target_pose={"x": target["x_mm"], "y": target["y_mm"], "z": target["z_mm"],
                     **{k: target[k] for k in ("qw", "qx", "qy", "qz")}},
    )
    for week, items in enumerate(spec.phq9_weekly):
        taken = now - timedelta(days=7 * (weeks - 1 - week), hours=2)
        outcomes.record_phq9(db, tech, patient.id, course.id, list(items), taken_at=taken)
    # Re-measured this week, as the clinic's weekly rule asks (CPT 90869): a demo whose every
    # patient was held for an overdue MT could not show a session at all.
    patient_records.record_motor_threshold(
        db, tech, patient.id, spec.mt_mso, spec.mt_method, measured_at=now - timedelta(days=2)
    )
    return patient


def _demo_day(days_ago: int) -> datetime:
    """09:30 local time ``days_ago`` days before today, as a UTC time."""
    day = datetime.now().astimezone() - timedelta(days=days_ago)
    return day.replace(hour=9, minute=30, second=0, microsecond=0).astimezone(UTC)


def _record(db: sqlite_utils.Database, db_path: Path, patient: Patient, session: DemoSession,
            tech: User, speed: float, started: datetime | None = None) -> int:
    plan = plan_session(db, patient, technician=tech.username)
    # A stable link path, like /dev/serial/by-id: the unplug scenario re-points it.
    link = Path(tempfile.mkdtemp(prefix="tms-demo-")) / "sim-device"
    with SimulatorProcess(session.protocol, speed=speed, seed=session.seed,
                          scenarios=session.scenarios, link=link) as sim:
        adapter = create_adapter(sim.url)
        runner = SessionRunner(db_path, adapter, plan, wall_start=started)
        try:
            session_id = runner.open()
            session_entries.add_checklist(db, tech, session_id, _checklist_answers())
            runner.start(by=tech.username).result(timeout=30)
            noted = stopped = False
            while not runner.wait_until_ended(0.05):
                delivered = runner.snapshot().pulses_delivered
                if session.note and not noted and delivered >= 60:
                    runner.add_note(session.note, by=tech.username)
                    noted = True
                if session.stop_after_pulses and not stopped and delivered >= session.stop_after_pulses:
                    runner.stop("patient asked to stop", by=tech.username)
                    stopped = True
            for kind, rating in session.side_effects:
                session_entries.add_side_effect(db, tech, session_id, kind, rating)
        finally:
            runner.close()
    return session_id


def _checklist_answers() -> list[dict[str, str]]:
    """The clinic's checklist answered the uneventful way (no answer that needs a note)."""
    answers = []
    for item in load_json("checklist.json")["items"]:
        needs_note = set(item.get("note_on", []))
        answer = "no" if "no" not in needs_note else "yes"
        answers.append({"id": item["id"], "question": item["question"], "answer": answer})
    return answers


def _after_session(db: sqlite_utils.Database, session_id: int, session: DemoSession, tech: User,
                   supervisor: User) -> None:
    if session.observation:
        session_entries.add_observation(db, tech, session_id, **session.observation)
    if session.sign:
        password = dict((u, p) for u, _n, _r, p in DEMO_ACCOUNTS)["supervisor"]
        signoff.sign_session(db, supervisor, session_id, password, session.sign,
                             "Demo sign-off: record complete.")
