"""Issue 15, done when: a fresh install set up and treating from the command line alone.

From an empty database: the first admin, a technician and a physician, a patient and a course,
the screening cleared, the motor threshold, a session recorded from the simulator (sim://) and
signed — every step a command, as a clinic's set-up script would run it.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import main
from console.audit import history, verify
from db.database import open_database

ROOT = Path(__file__).resolve().parents[2]
PASSWORDS = {"ada": "Admin-quiet-harbour-47", "tess": "Tech-amber-window-58", "doc": "Doc-silver-meadow-69"}
TEMPORARY = {"tess": "Temporary-tess-31-pine", "doc": "Temporary-doc-72-cedar"}


def _secret(tmp_path: Path, user: str) -> list[str]:
    path = tmp_path / f".{user}.password"
    path.write_text(PASSWORDS[user] + "\n", encoding="utf-8")
    path.chmod(0o600)
    return ["--user", user, "--password-file", str(path)]


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str,
         stdin: str = "") -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, (argv, err)
    return out


def test_a_fresh_install_from_admin_to_signed_session(tmp_path: Path, monkeypatch, capsys) -> None:
    db = ["--db", str(tmp_path / "clinic.db")]
    run = lambda *argv, stdin="": _run(monkeypatch, capsys, *argv, *db, stdin=stdin)  # noqa: E731
    run("users", "create-admin", "--username", "ada", "--full-name", "Ada Admin", "--password-stdin",
        stdin=PASSWORDS["ada"] + "\n")
    for name, full, role in (("tess", "Tess Tech", "technician"), ("doc", "Dr. Dana Doc", "physician")):
        run("users", "create", "--username", name, "--full-name", full, "--role", role, "--admin", "ada",
            "--password-stdin", stdin=f"{PASSWORDS['ada']}\n{TEMPORARY[name]}\n")
    # The admin gave temporary passwords: each person changes theirs before anything else.
    temporary = tmp_path / ".tess.temporary"
    temporary.write_text(TEMPORARY["tess"] + "\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main.main(["patients", "list", "--user", "tess", "--password-file", str(temporary), *db]) == 1
    assert "must be changed" in capsys.readouterr().err
    for name in ("tess", "doc"):
        old, new = tmp_path / f".{name}.temporary", tmp_path / f".{name}.new"
        old.write_text(TEMPORARY[name] + "\n")
        new.write_text(PASSWORDS[name] + "\n")
        run("users", "change-password", "--user", name, "--password-file", str(old),
            "--new-password-file", str(new))
    doc, tess = _secret(tmp_path, "doc"), _secret(tmp_path, "tess")

    run("patients", "add", "--clinic-id", "P-1", "--name", "Alex Example", "--dob", "1980-02-03", *doc)
    run("course", "open", "--patient", "P-1", "--protocol", "itbs", "--percent-mt", "120", *doc)
    answers = tmp_path / "answers.json"
    from console.safety.screening import load_questionnaire

    items = [item.id for item in load_questionnaire().items]
    answers.write_text(json.dumps({**{i: "no" for i in items}, items[-1]: "yes",
                                   "notes": {items[-1]: "said yes; asked the physician"}}))
    out = run("screening", "record", "--patient", "P-1", "--answers", str(answers), *tess)
    assert "screening clear" in out
    run("screening", "clear", "--patient", "P-1", "--reason", "reviewed with the patient; benefit outweighs",
        *doc)
    run("mt", "add", "--patient", "P-1", "--mso", "52", "--method", "EMG", "--device-model", "sim", *tess)

    shown = json.loads(run("patients", "show", "P-1", "--json", *tess))
    assert shown["courses"][0]["status"] == "open" and shown["motor_thresholds"][0]["mso"] == 52

    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "record", "--device", "sim://itbs?speed=1000",
                           "--patient", "P-1", *tess, *db],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    session_id = int(done.stdout.splitlines()[0].split()[1])
    database = open_database(tmp_path / "clinic.db", create=False)
    try:  # the authenticated user ran it
        ran = database.execute("SELECT technician FROM sessions WHERE id = ?", [session_id]).fetchone()
        assert ran[0] == "tess"
    finally:
        database.close()

    run("side-effect", "add", "--session", str(session_id), "--kind", "headache", "--rating", "2", *tess)
    out = run("sign", str(session_id), "--meaning", "reviewed", *doc)
    assert f"session {session_id} signed" in out

    database = open_database(tmp_path / "clinic.db", create=False)
    try:
        actions = {(r["actor"], r["action"]) for r in history(database)}
        assert {("doc", "create_patient"), ("doc", "open_course"), ("tess", "record_motor_threshold"),
                ("tess", "view_patient")} <= actions
        assert verify(database).ok
    finally:
        database.close()


def test_a_refusal_is_one_line_and_a_non_zero_exit(tmp_path: Path, monkeypatch, capsys) -> None:
    db = ["--db", str(tmp_path / "clinic.db")]
    _run(monkeypatch, capsys, "users", "create-admin", "--username", "ada", "--full-name", "Ada Admin",
         "--password-stdin", *db, stdin=PASSWORDS["ada"] + "\n")
    _run(monkeypatch, capsys, "users", "create", "--username", "tess", "--full-name", "Tess Tech", "--role",
         "technician", "--admin", "ada", "--password-stdin", *db,
         stdin=f"{PASSWORDS['ada']}\n{TEMPORARY['tess']}\n")
    old, new = tmp_path / ".old", tmp_path / ".new"
    old.write_text(TEMPORARY["tess"] + "\n")
    new.write_text("password\n")  # a common password: refused by the clinic's rules, said in one line
    assert main.main(["users", "change-password", "--user", "tess", "--password-file", str(old),
                      "--new-password-file", str(new), *db]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    new.write_text(PASSWORDS["tess"] + "\n")
    _run(monkeypatch, capsys, "users", "change-password", "--user", "tess", "--password-file", str(old),
         "--new-password-file", str(new), *db)
    tess = _secret(tmp_path, "tess")
    cases = [
        (["patients", "add", "--clinic-id", "P-1", "--name", "Alex Example", *tess], "technician cannot"),
        (["course", "open", "--patient", "P-9", "--protocol", "itbs", "--percent-mt", "120", *tess],
         "technician cannot"),
        (["mt", "add", "--patient", "P-9", "--mso", "52", "--method", "EMG", *tess], "no patient"),
        (["sign", "1", "--meaning", "reviewed", *tess], "technician cannot"),
        (["patients", "list"], "--user"),
        (["record", "--device", "sim://itbs?speed=1000", "--patient", "P-9", "--user", "tess",
          "--password-file", str(tmp_path / ".missing")], "cannot read the password file"),
    ]
    for argv, said in cases:
        assert main.main([*argv, *db]) == 1, argv
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(err) == 1 and said in err[0], (argv, err)
