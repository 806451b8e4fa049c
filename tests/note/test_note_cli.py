"""``python main.py note SESSION_ID --out FILE [--db PATH]`` as a clinic's script would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from tests.cli.accounts import account

from .recorded import typical

ROOT = Path(__file__).resolve().parents[2]


def run_note(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    db_path = Path(args[args.index("--db") + 1])
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "note", *args, *account(db_path)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)


def test_note_command_writes_pdf_text_and_markdown(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    rec = typical(db_path)
    rec.db.close()
    pdf, txt, md = tmp_path / "note.pdf", tmp_path / "note.txt", tmp_path / "note.md"

    out = run_note(str(rec.session_id), "--out", str(pdf), "--db", str(db_path), "--page", "letter")
    assert out.returncode == 0, out.stderr
    assert "(1 page)" in out.stdout and out.stderr == ""
    reader = PdfReader(str(pdf))
    assert len(reader.pages) == 1 and round(float(reader.pages[0].mediabox.width)) == 612
    assert "600 of 600 pulses" in " ".join(reader.pages[0].extract_text().split())

    for path, marker in ((txt, "TODAY'S SESSION"), (md, "## Today's session")):
        out = run_note(str(rec.session_id), "--out", str(path), "--db", str(db_path))
        assert out.returncode == 0, out.stderr
        text = path.read_text(encoding="utf-8")
        assert marker in text and "600 of 600 pulses" in text and "Headache" in text


def test_note_command_problems_are_one_line(tmp_path: Path) -> None:
    db_path = tmp_path / "clinic.db"
    rec = typical(db_path)
    rec.db.close()
    clinic = tmp_path / "clinic-resources"
    clinic.mkdir()
    (clinic / "note_template.txt").write_text("Pulses {{ note.today.pulses_deliverd }}\n", encoding="utf-8")

    out = run_note(str(rec.session_id), "--out", str(tmp_path / "n.txt"), "--db", str(db_path),
                   env_extra={"TMS_CONSOLE_RESOURCES": str(clinic)})
    assert out.returncode == 0  # the note is made with the default template...
    assert "600 of 600 pulses" in (tmp_path / "n.txt").read_text(encoding="utf-8")
    lines = out.stderr.strip().splitlines()  # ...and the clinic is told what to fix
    assert len(lines) == 1 and "note_template.txt, line 1" in lines[0] and "pulses_deliverd" in lines[0]



def test_note_command_refusals_are_one_line(tmp_path: Path, capsys) -> None:
    import main

    db_path = tmp_path / "clinic.db"
    rec = typical(db_path)
    rec.db.close()
    cases = [
        (["999", "--out", str(tmp_path / "x.pdf")], "note: There is no session 999 in this database."),
        ([str(rec.session_id), "--out", str(tmp_path / "x.docx")], "end the name with .pdf, .txt or .md"),
        ([str(rec.session_id), "--out", str(tmp_path / "no-folder" / "x.pdf")], "does not exist"),
    ]
    for args, expected in cases:
        assert main.main(["note", *args, "--db", str(db_path), *account(db_path)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and expected in err, err
    missing = tmp_path / "missing.db"
    assert main.main(["note", "1", "--out", str(tmp_path / "x.pdf"), "--db", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "missing.db does not exist" in err and "Traceback" not in err
