"""Clinic accounts for command-line tests: who is asking, with a password in a private file.

Every command that reads or writes patient data takes ``--user`` (cli.auth); a test gives it
an account of the role it needs, made through the domain's create_user as an admin would.
"""

from __future__ import annotations

from pathlib import Path

from console.people.admin import create_user
from console.people.user import get_user, needs_first_admin
from db.database import open_database

PASSWORD = "Quiet-harbour-lantern-47"


def account(db_path: Path, role: str = "supervisor", name: str | None = None) -> list[str]:
    """``--user NAME --password-file FILE`` for an account of ``role`` in the database at ``db_path``."""
    db = open_database(db_path, create=False)
    try:
        if needs_first_admin(db):
            create_user(db, None, "test-admin", "Test Admin", "admin", PASSWORD)
        name = name or f"test-{role}"
        if get_user(db, name) is None:
            admin_name = db.execute("SELECT username FROM users WHERE role = 'admin' AND active = 1 "
                                    "ORDER BY id LIMIT 1").fetchone()[0]
            admin = get_user(db, admin_name)
            create_user(db, admin, name, f"Test {role.title()}", role, PASSWORD)
    finally:
        db.close()
    secret = db_path.parent / f".{db_path.name}.{name}.password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    secret.chmod(0o600)
    return ["--user", name, "--password-file", str(secret)]
