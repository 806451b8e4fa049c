"""A clinic database with one patient ready for a session, and the record command as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from cli.auth import PASSWORD_ENV
from console.clinic.records import (
    active_course,
    create_patient,
    find_patient,
    open_course,
    record_motor_threshold,
)
from console.clinic.settings import set_setting
from console.people import passwords
from console.people.admin import create_user
from console.people.user import get_user
from console.safety import screening
from console.safety.schedule import early_start_check, sign_extra_session
from db.database import open_database
from resources import load_json
from tests.conftest import fast_password_hasher

ROOT = Path(__file__).resolve().parents[2]
CLINIC_CONTACTS = {"clinic_phone": "555-0100", "supervising_physician": "Dr. Sam Supervisor"}
POSE_KEYS = ("x", "y", "z", "qw", "qx", "qy", "qz")


def simulator_target() -> dict[str, float]:
    """The simulator's demo target (resources/simulator.json): 'on target' means the same on both sides."""
    t = load_json("simulator.json")["target"]
    return {"x": t["x_mm"], "y": t["y_mm"], "z": t["z_mm"], "qw": t["qw"], "qx": t["qx"], "qy": t["qy"],
            "qz": t["qz"]}


def clinic(db_path: Path, protocol: str | None = "itbs", clinic_id: str = "P-1") -> int:
    """A patient (with an open course of ``protocol`` and a motor threshold of 52 % MSO, unless None)."""
    db = open_database(db_path)
    try:
        for key, value in CLINIC_CONTACTS.items():  # a note goes out only with both (issue 14, item 9)
            set_setting(db, key, value, _setup_admin(db))  # an admin's account (issue 15)
        p = create_patient(db, clinic_id, "Alex Example")
        if protocol:
            open_course(db, p.id, protocol, 120.0, target_pose=simulator_target())
            record_motor_threshold(db, p.id, 52.0, "EMG")
            screen_uneventfully(db, p.id)
        return p.id
    finally:
        db.close()


def screen_uneventfully(db, patient_id: int) -> None:
    """A safety screening with every answer "no", by a technician (a course needs one to start)."""
    saved, passwords.HASHER = passwords.HASHER, fast_password_hasher()
    try:
        tech = get_user(db, "screener")
        if tech is None:
            row = db.execute("SELECT username FROM users WHERE role = 'admin' LIMIT 1").fetchone()
            admin = get_user(db, row[0]) if row else create_user(
                db, None, "setup-admin", "Setup Admin", "admin", "setup-admin-pass-1")
            tech = create_user(db, admin, "screener", "Sam Screener", "technician",
                                        "screener-pass-1")
    finally:
        passwords.HASHER = saved
    answers = {item.id: "no" for item in screening.load_questionnaire().items}
    screening.record_screening(db, tech, patient_id, answers)


def physician_allows_extra_session(db_path: Path, clinic_id: str = "P-1") -> int | None:
    """When the patient's next session is beyond the day's plan, a physician signs for it (issue 14,
    item 10: ``record`` refuses it otherwise, as the chair does); the override covers that one
    session. Returns the override's id, None when the plan allows the session anyway."""
    db = open_database(db_path)
    try:
        p = find_patient(db, clinic_id)
        course = active_course(db, p.id) if p is not None else None
        early = early_start_check(db, course.id, datetime.now(UTC)) if course is not None else None
        if course is None or early is None or early.kind != "extra_session":
            return None
        physician = get_user(db, "extra-physician")
        saved, passwords.HASHER = passwords.HASHER, fast_password_hasher()
        try:
            if physician is None:
                physician = create_user(db, _setup_admin(db), "extra-physician", "Dr. Extra Physician",
                                        "physician", "extra-physician-pass-1")
            return sign_extra_session(db, physician, "extra-physician-pass-1", course.id, early,
                                      "a test records several sessions of one patient in a day")
        finally:
            passwords.HASHER = saved
    finally:
        db.close()


def login_for(db_path: Path, role: str = "technician") -> tuple[list[str], dict[str, str]]:
    """``--user`` for a headless command on this database, and the environment that gives its
    password (issue 15: every command that reads or writes patient data says who is asking). The
    account ``cli-<role>`` is created the first time, by the clinic's admin."""
    name, password = f"cli-{role}", f"cli-{role}-pass-1"
    db = open_database(db_path)
    try:
        if get_user(db, name) is None:
            saved, passwords.HASHER = passwords.HASHER, fast_password_hasher()
            try:
                create_user(db, _setup_admin(db), name, f"CLI {role.title()}", role, password)
            finally:
                passwords.HASHER = saved
    finally:
        db.close()
    return ["--user", name], {**os.environ, PASSWORD_ENV: password}


def record_process(db_path: Path, url: str, *extra: str, clinic_id: str = "P-1",
                   login: tuple[str, str] | None = None) -> subprocess.Popen:
    """``record`` as its own process, as a technician: ``login`` (user name, password), else the
    database's ``cli-technician`` account."""
    if login is None:
        user_args, env = login_for(db_path)
    else:
        user_args, env = ["--user", login[0]], {**os.environ, PASSWORD_ENV: login[1]}
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "record", "--device", url, "--patient", clinic_id,
         "--db", str(db_path), *user_args, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )


def session_line(proc: subprocess.Popen) -> int:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("SESSION "):
        proc.kill()
        _, err = proc.communicate(timeout=30)
        raise AssertionError(f"record did not print SESSION first: {line!r} {err!r}")
    return int(line.split()[1])


def _setup_admin(db):
    """The clinic's admin (created with the fast hasher if there is none): settings are changed
    by an admin's account, never under a free name (issue 15)."""
    row = db.execute("SELECT username FROM users WHERE role = 'admin' LIMIT 1").fetchone()
    if row:
        return get_user(db, row[0])
    saved, passwords.HASHER = passwords.HASHER, fast_password_hasher()
    try:
        return create_user(db, None, "setup-admin", "Setup Admin", "admin", "setup-admin-pass-1")
    finally:
        passwords.HASHER = saved
