"""``users`` commands, and marking a demo database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.audit import history
from console.people.admin import create_demo_accounts, mark_demo_database
from console.people.login import authenticate
from console.people.user import AccountError, is_demo_database
from db.database import open_database

ROOT = Path(__file__).resolve().parents[2]


def users(db_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "users", *args, "--db", str(db_path)],
                          input=stdin, capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_create_the_first_admin_list_and_recover_a_forgotten_password(tmp_path) -> None:
    path = tmp_path / "chair.db"
    out = users(path, "create-admin", "--username", "ada", "--full-name", "Ada Admin", "--password-stdin",
                stdin="admin-pass-1\n")
    assert out.returncode == 0, out.stderr
    out = users(path, "create-admin", "--username", "bob", "--full-name", "Bob", "--password-stdin",
                stdin="bob-pass-123\n")
    assert out.returncode == 1 and "already has an admin" in out.stderr
    out = users(path, "list")
    assert out.returncode == 0 and out.stdout.split()[:3] == ["ada", "admin", "active"]
    out = users(path, "reset-password", "ada", "--password-stdin", stdin="short\n")
    assert out.returncode == 1 and "at least 8" in out.stderr
    out = users(path, "reset-password", "ada", "--password-stdin", stdin="temporary-lamp-9\n")
    assert out.returncode == 0, out.stderr
    db = open_database(path)
    try:
        assert authenticate(db, "ada", "temporary-lamp-9").must_change_password
        assert history(db, "user", "ada")[1]["actor"].startswith("command line (")
    finally:
        db.close()


def test_only_a_new_database_becomes_a_demo_database(db, people) -> None:
    with pytest.raises(AccountError, match="already has user accounts"):
        mark_demo_database(db)
    assert not is_demo_database(db)


def test_a_demo_database_gets_its_accounts(db) -> None:
    mark_demo_database(db)
    mark_demo_database(db)  # twice is fine
    made = create_demo_accounts(db)
    assert [role for _, _, role in made] == ["technician", "supervisor", "physician", "admin"]
    assert history(db, "setting", "demo_database")[0]["action"] == "mark_demo_database"
