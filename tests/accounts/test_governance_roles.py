"""Issue 14, item 7: a physician role, distinct from the supervisor (the lead technician).

The physician is the credentialed clinician who signs the clinical decisions; the
supervisor keeps the rights that are not clinical decisions. One table says who may
do what (console.people.permissions); the database, the admin's command line, the
demo and the main window all know the role.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from console.people.admin import (
    DEMO_ACCOUNTS,
    create_demo_accounts,
    create_user,
    mark_demo_database,
    set_role,
)
from console.people.login import authenticate
from console.people.permissions import ACTIONS, PermissionDenied, allowed, require, who_may
from console.people.user import ROLES, get_user
from db.database import open_database
from tests.accounts.conftest import PASSWORDS

ROOT = Path(__file__).resolve().parents[2]


def test_the_physician_is_a_role_of_its_own(db, people) -> None:
    assert "physician" in ROLES
    doc = create_user(db, people["ada"], "phil", "Dr. Phil Physician", "physician", "physician-pass-1")
    assert get_user(db, "phil").role == "physician"
    # The file itself accepts the role (its CHECK was widened by a migration) and nothing else new.
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE users SET role = 'doctor' WHERE id = ?", [doc.id])
    set_role(db, people["ada"], "sue", "physician")
    assert get_user(db, "sue").role == "physician"


def test_one_table_says_who_signs_the_clinical_decisions(db, people) -> None:
    doc = create_user(db, people["ada"], "phil", "Dr. Phil Physician", "physician", "physician-pass-1")
    # The physician's review of a screening "yes" is the physician's alone.
    assert ACTIONS["clear_screening"][1] == frozenset({"physician"})
    assert who_may("clear_screening") == "a physician"
    require(doc, "clear_screening")
    for name in ("sue", "tom", "ada"):
        with pytest.raises(PermissionDenied):
            require(people[name], "clear_screening")
    # The physician can do a clinician's work and sign overrides.
    for action in ("override_safety", "record_screening", "sign_session", "review_sessions",
                   "manage_patients", "view_records"):
        assert allowed(doc, action), action
    # The supervisor keeps the rights that are not clinical decisions.
    for action in ("review_sessions", "sign_session", "manage_patients", "export_sessions",
                   "record_session", "add_addendum"):
        assert allowed(people["sue"], action), action
    # Accounts and settings stay the admin's.
    assert not allowed(doc, "manage_users") and not allowed(doc, "edit_settings")


def test_an_old_database_gets_the_physician_role_without_losing_anyone(tmp_path) -> None:
    """A file made before the role existed is migrated: accounts, triggers and references kept."""
    path = tmp_path / "old.db"
    db = open_database(path)
    admin = create_user(db, None, "ada", "Ada Admin", "admin", PASSWORDS["ada"])
    create_user(db, admin, "sue", "Sue Super", "supervisor", PASSWORDS["sue"])
    db.close()
    raw = sqlite3.connect(path)
    # Put the file back as it was before 0005: the old CHECK, and 0005 not applied.
    with raw:
        raw.execute("DELETE FROM _sqlite_migrations WHERE name = '0005_physician_role'")
        raw.execute("PRAGMA writable_schema = ON")
        raw.execute("UPDATE sqlite_master SET sql = replace(sql, \"'supervisor', 'physician', 'admin'\", "
                    "\"'supervisor', 'admin'\") WHERE type = 'table' AND name = 'users'")
    raw.close()
    db = open_database(path)
    try:
        assert authenticate(db, "sue", PASSWORDS["sue"]).role == "supervisor"
        create_user(db, get_user(db, "ada"), "phil", "Dr. Phil", "physician", "physician-pass-1")
        with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
            db.execute("DELETE FROM users WHERE username = 'sue'")
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        db.close()


def test_the_demo_has_a_physician(db) -> None:
    mark_demo_database(db)
    made = {name: (password, role) for name, password, role in create_demo_accounts(db)}
    assert made["physician"] == ("demo-physician", "physician")
    assert authenticate(db, "physician", "demo-physician").role == "physician"
    assert ("physician", "demo-physician") in {(u, p) for u, _n, _r, p in DEMO_ACCOUNTS}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`physician` / `demo-physician`" in readme


def test_an_admin_creates_a_physician_from_the_command_line(tmp_path) -> None:
    path = tmp_path / "chair.db"

    def users(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "main.py"), "users", *args, "--db", str(path)],
                              input=stdin, capture_output=True, text=True, timeout=120, cwd=ROOT)

    out = users("create-admin", "--username", "ada", "--full-name", "Ada Admin", "--password-stdin",
                stdin="admin-pass-1\n")
    assert out.returncode == 0, out.stderr
    out = users("create", "--username", "phil", "--full-name", "Dr. Phil Physician", "--role", "physician",
                "--admin", "ada", "--password-stdin", stdin="admin-pass-1\nphysician-pass-1\n")
    assert out.returncode == 0, out.stderr
    assert "physician account phil" in out.stdout
    out = users("create", "--username", "pat", "--full-name", "Pat", "--role", "doctor",
                "--admin", "ada", "--password-stdin", stdin="admin-pass-1\nphysician-pass-1\n")
    assert out.returncode != 0 and "physician" in out.stderr  # the choices are listed
    out = users("create", "--username", "pat", "--full-name", "Pat", "--role", "physician",
                "--admin", "ada", "--password-stdin", stdin="wrong\nphysician-pass-1\n")
    assert out.returncode == 1 and "Wrong user name or password" in out.stderr
    db = open_database(path)
    try:
        assert get_user(db, "phil").role == "physician"
        assert get_user(db, "pat") is None
    finally:
        db.close()


def test_a_physician_logs_in_to_the_screens_of_a_clinician(qtbot) -> None:
    from console.ui.main_window import SCREENS

    assert [title for title, _ in SCREENS["physician"]] == ["Review", "Chair", "Patients"]
