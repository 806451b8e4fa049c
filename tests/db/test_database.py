"""Opening the database: a new file, an old file, a damaged file, a failing migration."""

from __future__ import annotations

import copy
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from db import schema, schema_core
from db.database import DatabaseUnusable, open_database, to_utc_iso, utc_now

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema_v1.db"


def _schema_of(path: Path) -> set[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
    finally:
        conn.close()
    return {(t, n, " ".join((s or "").split())) for t, n, s in rows}


def _applied(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT migration_set, name FROM _sqlite_migrations ORDER BY id").fetchall()
    finally:
        conn.close()


def _every_migration() -> list[tuple[str, str]]:
    return [(s.name, m.name) for s in schema.migration_sets() for m in s._migrations]


def test_new_database_is_private_durable_and_current(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "folder" / "clinic.db"
    db = open_database(path)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # patient records: owner only
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        db["settings"].insert({"key": "k", "value": "1", "changed_at": utc_now()})
        wal = Path(str(path) + "-wal")
        assert stat.S_IMODE(os.stat(wal).st_mode) == 0o600
        assert {"patients", "courses", "sessions", "pulses", "poses", "session_events", "addenda",
                "settings"} <= set(db.table_names())
    finally:
        db.close()
    assert _applied(path) == _every_migration()


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    db = open_database(tmp_path / "t.db")
    try:
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO motor_thresholds (patient_id, mso, method, measured_at) "
                       "VALUES (999, 50, 'EMG', ?)", [utc_now()])
    finally:
        db.close()


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    open_database(path).close()
    open_database(path).close()
    assert _applied(path) == _every_migration()


def test_missing_file_is_refused_when_creation_is_not_wanted(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(DatabaseUnusable, match="does not exist"):
        open_database(path, create=False)
    assert not path.exists()


def test_first_version_database_migrates_keeping_its_records(tmp_path: Path) -> None:
    old = tmp_path / "clinic.db"
    shutil.copy(FIXTURE, old)
    assert _applied(old) == [("tms_console", "0001_initial")]
    db = open_database(old)
    try:
        assert db.execute("SELECT clinic_id, name FROM patients").fetchall() == [("MRN-0001", "Ada Example")]
        assert db.execute("SELECT count(*) FROM pulses").fetchone()[0] == 4
        assert db.execute("SELECT status FROM sessions ORDER BY id").fetchall() == [
            ("completed",), ("recording",)]
        assert db.execute("SELECT text FROM addenda").fetchone()[0] == "reviewed"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    assert _applied(old) == _every_migration()
    fresh = tmp_path / "fresh.db"
    open_database(fresh).close()
    # Migrating an old file must end at exactly the schema a new file gets.
    assert _schema_of(old) == _schema_of(fresh)


def test_failing_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    core = copy.deepcopy(schema_core.migrations)

    @core(name="0999_fails_halfway")
    def fails_halfway(db) -> None:
        db.execute("CREATE TABLE half_done (x INTEGER)")
        db.execute("UPDATE patients SET name = 'changed'")
        raise RuntimeError("disk said no")

    sets = [core, *schema.migration_sets()[1:]]
    path = tmp_path / "clinic.db"
    shutil.copy(FIXTURE, path)
    with pytest.raises(DatabaseUnusable) as caught:
        open_database(path, migration_sets=sets)
    message = str(caught.value)
    assert str(path) in message and "tms_console/0999_fails_halfway" in message
    assert "disk said no" in message and "left unchanged at the version before it" in message
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "half_done" not in tables
        assert conn.execute("SELECT name FROM patients").fetchone()[0] == "Ada Example"
    finally:
        conn.close()
    assert ("tms_console", "0999_fails_halfway") not in _applied(path)
    # The program as shipped still opens the file afterwards.
    open_database(path).close()


def test_migration_breaking_a_foreign_key_is_rolled_back(tmp_path: Path) -> None:
    core = copy.deepcopy(schema_core.migrations)

    @core(name="0999_orphan")
    def orphan(db) -> None:
        db.execute("INSERT INTO courses (uuid, patient_id, protocol, percent_mt, planned_sessions, "
                   "opened_at) VALUES ('u', 4242, '10hz', 120, 36, 'x')")

    path = tmp_path / "t.db"
    with pytest.raises(DatabaseUnusable, match=r"0999_orphan.*foreign key"):
        open_database(path, migration_sets=[core])
    db = open_database(path)
    try:
        assert db.execute("SELECT count(*) FROM courses").fetchone()[0] == 0
    finally:
        db.close()


def test_database_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('tms_console', '9999_from_the_future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseUnusable, match=r"newer version.*9999_from_the_future"):
        open_database(path)


def _corrupt_root_page(path: Path, table: str) -> None:
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    conn.execute("PRAGMA journal_mode = DELETE")  # everything in the main file, no WAL beside it
    conn.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(bytes([0x77] * 24))  # an invalid b-tree page header


def test_damaged_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    shutil.copy(FIXTURE, path)
    _corrupt_root_page(path, "pulses")
    with pytest.raises(DatabaseUnusable) as caught:
        open_database(path)
    message = str(caught.value)
    assert str(path) in message and "damaged" in message and "backup" in message
    assert "\n" not in message


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"Dear diary, " * 500)
    with pytest.raises(DatabaseUnusable, match="cannot be opened"):
        open_database(path)
    assert path.read_bytes() == b"Dear diary, " * 500


def test_another_programs_database_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE patients (who TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseUnusable, match="another program"):
        open_database(path)
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["patients"]
    conn.close()


def test_a_folder_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnusable, match="is a folder"):
        open_database(tmp_path)


def test_times_share_one_format() -> None:
    now = utc_now()
    assert now.endswith("+00:00") and len(now) == len("2026-01-05T09:00:00.000+00:00")
    assert to_utc_iso("2026-01-05T10:00:00+01:00") == "2026-01-05T09:00:00.000+00:00"
    with pytest.raises(ValueError, match="ISO-8601"):
        to_utc_iso("yesterday")
