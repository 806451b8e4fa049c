"""The handoff note names a patient: every file ``note`` writes is readable by its owner only (0600),
under the usual umask 022, also when it overwrites a note an earlier run left readable by all."""

from __future__ import annotations

import stat
from pathlib import Path

from .recorded import typical
from .test_note_cli import run_note


def test_every_note_format_is_written_owner_only(tmp_path: Path, umask_022) -> None:
    db_path = tmp_path / "clinic.db"
    rec = typical(db_path)
    rec.db.close()
    old = tmp_path / "old.txt"
    old.write_text("an earlier note\n", encoding="utf-8")
    old.chmod(0o644)
    for path in (tmp_path / "note.pdf", tmp_path / "note.txt", tmp_path / "note.md", old):
        out = run_note(str(rec.session_id), "--out", str(path), "--db", str(db_path))
        assert out.returncode == 0, out.stderr
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert path.stat().st_size > 100, path
    assert "TODAY'S SESSION" in old.read_text(encoding="utf-8")  # overwritten whole, not appended to
