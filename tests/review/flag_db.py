"""A clinic database with a session for every review flag, made the way the clinic makes them.

Sessions are recorded from the simulator (``python -m devices.sim`` on a real
pty) by the ``record`` command as a separate process, with the simulator's
scenarios: drift (off target), overheat (a fault), noise (damaged and missing
frames), unplug (the device lost), a recording-only device at the wrong
intensity, a run stopped by SIGTERM, a recorder killed mid-run (interrupted,
found by recovery), a patient whose motor threshold is older than the
re-measure interval. What no scenario produces is added as the program
would: a severe side effect and an adverse event through the domain
functions, an aborted session and an intensity override as rows.

Every patient has an iTBS course, so recordings run at once, one per patient
(each session numbered in its own course); OLD-MT's motor threshold was
measured 40 days before.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.clinic.records import create_patient, open_course, record_motor_threshold
from console.people.admin import create_user
from console.people.user import User
from console.safety.adverse_event import record_adverse_event
from console.safety.screening import load_questionnaire, record_screening
from console.safety.start_gate import holds_to_review, sign_hold_review
from console.session.entries import add_side_effect
from db.database import connect, new_uuid, open_database, utc_now
from db.recovery import mark_interrupted_sessions
from devices.sim.process import SimulatorProcess
from tests.engine.clinic_setup import (
    physician_allows_extra_session,
    record_process,
    session_line,
    simulator_target,
)

PASSWORDS = {"ada": "admin-pass-1", "tom": "tech-pass-1", "sue": "super-pass-1", "sam": "super-pass-2"}
SPEED = 400.0
SLOW = 5.0  # runs stopped or killed part-way: slow enough to stop after some pulses
POSE_HZ = 10


@dataclass
class Run:
    label: str
    patient: str
    sim: dict[str, Any] = field(default_factory=dict)
    action: str = "finish"  # finish | stop (SIGTERM) | kill (SIGKILL: interrupted)


# Rounds of recordings that run at the same time, one per patient.
ROUNDS: tuple[tuple[Run, ...], ...] = (
    (Run("clean", "P-1"), Run("side_effect", "P-2"), Run("adverse", "P-3"),
     Run("drift", "P-4", {"scenarios": ("drift",)}), Run("overheat", "P-5", {"scenarios": ("overheat",)}),
     Run("noise", "P-6", {"scenarios": ("noise",)})),
    (Run("intensity", "P-1", {"no_commands": True, "mso": 55}), Run("mt_old", "OLD-MT"),
     Run("unplug", "P-2", {"scenarios": ("unplug",), "link": True}), Run("stopped", "P-3", action="stop"),
     Run("interrupted", "P-4", action="kill")),
)
EXPECTED: dict[str, set[str]] = {
    "clean": set(),
    "side_effect": {"adverse"},
    "adverse": {"adverse"},
    "drift": {"off_target"},
    "overheat": {"fault"},
    "noise": {"frames"},
    "intensity": {"intensity"},
    "mt_old": {"mt_old"},
    "unplug": {"device_lost"},
    "stopped": {"ended_early", "short"},
    "interrupted": {"ended_early", "short"},
    "aborted": {"ended_early", "short"},
    "intensity_override": {"intensity"},
    "not_observed": {"not_observed"},  # a device that cannot report pulses: never "short" (issue 16)
}
MAYBE: dict[str, set[str]] = {"unplug": {"off_target", "frames"}}
"""Flags a run may also raise by timing (the outage may fall on pulses or a rest)."""
PATIENTS = ("P-1", "P-2", "P-3", "P-4", "P-5", "P-6", "OLD-MT")


def people(db: Any) -> dict[str, User]:
    admin = create_user(db, None, "ada", "Ada Admin", "admin", PASSWORDS["ada"])
    return {
        "ada": admin,
        "tom": create_user(db, admin, "tom", "Tom Tech", "technician", PASSWORDS["tom"]),
        "sue": create_user(db, admin, "sue", "Dr. Sue Super", "supervisor", PASSWORDS["sue"]),
        "sam": create_user(db, admin, "sam", "Dr. Sam Second", "supervisor", PASSWORDS["sam"]),
    }


def _clinic(db_path: Path) -> dict[str, User]:
    """The accounts, and every patient screened (nothing to declare) with an iTBS course and an MT."""
    db = open_database(db_path)
    try:
        users = people(db)
        nothing = {item.id: False for item in load_questionnaire().items}
        old = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="milliseconds")
        for clinic_id in PATIENTS:
            p = create_patient(db, clinic_id, f"Patient {clinic_id}")
            record_screening(db, users["tom"], p.id, nothing)
            open_course(db, p.id, "itbs", 120.0, target_pose=simulator_target())
            record_motor_threshold(db, p.id, 52.0, "EMG", measured_at=old if clinic_id == "OLD-MT" else None)
            if clinic_id == "OLD-MT":  # an overdue MT holds the course: a physician lets it go on today
                physician = create_user(db, users["ada"], "phil", "Dr. Phil Physician", "physician",
                                        "physician-pass-1")
                [hold] = holds_to_review(db, p.id)
                sign_hold_review(db, physician, "physician-pass-1", p.id, hold, "Re-measure next week")
        return users
    finally:
        db.close()


def _wait_for_pulses(db_path: Path, sid: int, n: int, timeout: float = 120.0) -> None:
    db = connect(db_path)
    try:
        deadline = time.monotonic() + timeout
        while db.execute("SELECT count(*) FROM pulses WHERE session_id = ?", [sid]).fetchone()[0] < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"session {sid}: fewer than {n} pulses within {timeout} s")
            time.sleep(0.05)
    finally:
        db.close()


def _round(db_path: Path, runs: tuple[Run, ...], folder: Path) -> dict[str, int]:
    """Record the runs at the same time; the label -> session id of each."""
    ids: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        procs = []
        for i, run in enumerate(runs):
            options = dict(run.sim)
            if options.pop("link", False):
                options["link"] = folder / f"tty-{run.label}"
            speed = SLOW if run.action != "finish" else SPEED
            sim = stack.enter_context(SimulatorProcess("itbs", speed=speed, seed=10 + i, pose_hz=POSE_HZ,
                                                       **options))
            physician_allows_extra_session(db_path, run.patient)  # the patient's second today
            proc = record_process(db_path, sim.url, clinic_id=run.patient, login=("tom", PASSWORDS["tom"]))
            stack.callback(_reap, proc)
            ids[run.label] = session_line(proc)
            procs.append((run, proc))
        for run, proc in procs:
            if run.action == "finish":
                _, err = proc.communicate(timeout=180)
                assert proc.returncode == 0, f"{run.label}: {err}"
                continue
            _wait_for_pulses(db_path, ids[run.label], 30)
            if run.action == "stop":
                proc.send_signal(signal.SIGTERM)
                _, err = proc.communicate(timeout=60)
                assert proc.returncode == 0, f"{run.label}: {err}"
            else:
                proc.kill()
                proc.communicate(timeout=60)
    return ids


def _reap(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.communicate(timeout=30)


def _add_direct(db: Any, users: dict[str, User], ids: dict[str, int]) -> None:
    """What no simulator scenario produces, added as the program would."""
    add_side_effect(db, users["tom"], ids["side_effect"], "headache", 8, "asked for a cold pack")
    add_side_effect(db, users["tom"], ids["clean"], "scalp_discomfort", 2)  # mild: no flag
    sid = ids["adverse"]
    patient = db.execute("SELECT patient_id FROM sessions WHERE id = ?", [sid]).fetchone()[0]
    record_adverse_event(db, users["tom"], patient, "syncope",
                         "Felt faint after the last train; recovered lying down in two minutes.",
                         session_id=sid, actions_taken="Session ended, observed")
    patient = db.execute("SELECT id FROM patients WHERE clinic_id = 'P-5'").fetchone()[0]
    course = db.execute("SELECT id FROM courses WHERE patient_id = ?", [patient]).fetchone()[0]
    for label, status, mso, override in (("aborted", "aborted", 62, False),
                                         ("intensity_override", "completed", 58, True)):
        ids[label] = _session_row(db, patient, course, status, mso, override)
    ids["not_observed"] = _session_row(db, patient, course, "completed", 62, False, observed=False)


def _session_row(db: Any, patient: int, course: int, status: str, mso: int, override: bool, *,
                 observed: bool = True) -> int:
    started = datetime.now(UTC)
    sid = db.execute(
        "INSERT INTO sessions (uuid, patient_id, course_id, number_in_course, started_at, technician, "
        "device_url, protocol, pulses_planned, mt_mso, percent_mt, prescribed_mso, target_pose) "
        "VALUES (?, ?, ?, NULL, ?, 'tom', 'sim://', 'iTBS left DLPFC', 600, 52, 120, 62, ?)",
        [new_uuid(), patient, course, started.isoformat(timespec="milliseconds"),
         json.dumps(simulator_target())]).lastrowid
    delivered = 0 if not observed else 120 if status == "aborted" else 600
    with db.atomic():
        db.execute("INSERT INTO session_events (session_id, at, device_t_ms, kind, code, detail) VALUES "
                   "(?, ?, 1000, 'run_started', 'train', '{}')", [sid, utc_now()])
        if mso != 62:
            alarm = {"raised": True, "message": f"Intensity {mso} % MSO, prescribed 62 % MSO"}
            db.execute("INSERT INTO session_events (session_id, at, device_t_ms, kind, code, detail) VALUES "
                       "(?, ?, 1000, 'alarm', 'intensity', ?)", [sid, utc_now(), json.dumps(alarm)])
        for n in range(1, delivered + 1):
            db.execute("INSERT INTO pulses (session_id, count, device_t_ms, mso, train, distance_mm, "
                       "angle_deg, on_target) VALUES (?, ?, ?, ?, ?, 0.5, 0.5, 1)",
                       [sid, n, 1000 + n * 300, mso, (n - 1) // 30 + 1])
    db.execute("UPDATE sessions SET status = ?, end_reason = ?, ended_at = ?, pulses_delivered = ?, "
               "pulses_recorded = ?, pulses_on_target = ?, duration_s = 190, pulses_observed = ? "
               "WHERE id = ?",
               [status, "patient unwell" if status == "aborted" else None, utc_now(), delivered, delivered,
                delivered if observed else None, int(observed), sid])
    if override:
        violations = json.dumps([{"code": "intensity", "message": "58 vs 62"}])
        db.execute("INSERT INTO overrides (uuid, kind, patient_id, course_id, session_id, violations, "
                   "reason, by_user, by_role, at) "
                   "VALUES (?, 'intensity', ?, ?, ?, ?, ?, 'tom', 'technician', ?)",
                   [new_uuid(), patient, course, sid, violations, "Prescribed titration step", utc_now()])
    return int(sid)


def build(db_path: Path, folder: Path) -> dict[str, int]:
    """Make the database at ``db_path``; returns label -> session id (labels as in EXPECTED)."""
    users = _clinic(db_path)
    ids: dict[str, int] = {}
    for runs in ROUNDS:
        for run in runs:
            # One at a time: two recorders starting together on one file can hit "database is
            # locked" (db/session_lock.py begins its transaction deferred, then writes).
            ids.update(_round(db_path, (run,), folder))
    db = open_database(db_path)
    try:
        marked = mark_interrupted_sessions(db, db_path)
        assert ids["interrupted"] in marked, marked
        _add_direct(db, users, ids)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return ids
