"""The core schema (patients, courses, sessions, pulses), as named migrations (``sqlite_utils.Migrations``).

Every change to the schema is a new named migration appended at the end;
a migration that has landed is never edited. Each runs in a transaction, so
a failing one leaves the database at the previous version.

Conventions: every person-facing entity (patient, course, session, user) has
an integer key and a ``uuid`` so the records of many chairs can merge later.
Times are ISO-8601 UTC with offset (``2026-11-24T09:30:00.123+00:00``);
device times are device milliseconds. Ended sessions are append-only:
triggers refuse to change a session row once it has left ``recording``, to
add pulses or poses to it, and to change or delete any pulse, pose, session
event or addendum; corrections are addenda. Clinic ids are unique without
regard to case ("ab12" and "AB12" are one patient id), so two patients can
never be told apart by capitals alone.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from db.migration_sql import run_statements as _run

migrations = Migrations("tms_console")




@migrations(name="0001_initial")
def m0001_initial(db: Database) -> None:
    _run(db, [
        """CREATE TABLE patients (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            clinic_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            date_of_birth TEXT,
            initials TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE courses (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            indication TEXT NOT NULL DEFAULT 'major depressive disorder',
            protocol TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT 'left DLPFC',
            targeting_method TEXT,
            target_pose TEXT,
            percent_mt REAL NOT NULL CHECK (percent_mt > 0),
            planned_sessions INTEGER NOT NULL CHECK (planned_sessions > 0),
            schedule TEXT NOT NULL DEFAULT 'acute',
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
            close_reason TEXT,
            opened_at TEXT NOT NULL,
            closed_at TEXT
        )""",
        "CREATE INDEX idx_courses_patient ON courses(patient_id)",
        # At most one open course per patient: the chair never has to guess which one.
        "CREATE UNIQUE INDEX idx_courses_one_open ON courses(patient_id) WHERE status = 'open'",
        """CREATE TABLE motor_thresholds (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            mso REAL NOT NULL CHECK (mso > 0 AND mso <= 100),
            method TEXT NOT NULL CHECK (method IN ('EMG', 'visual')),
            measured_at TEXT NOT NULL,
            measured_by TEXT
        )""",
        "CREATE INDEX idx_mt_patient ON motor_thresholds(patient_id, measured_at)",
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            course_id INTEGER REFERENCES courses(id),
            number_in_course INTEGER,
            status TEXT NOT NULL DEFAULT 'recording'
                CHECK (status IN ('recording','completed','stopped','aborted','interrupted')),
            end_reason TEXT,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            technician TEXT,
            device_url TEXT NOT NULL,
            device_vendor TEXT,
            device_model TEXT,
            device_serial TEXT,
            device_firmware TEXT,
            protocol TEXT,
            pulses_planned INTEGER,
            mt_mso REAL,
            percent_mt REAL,
            prescribed_mso INTEGER,
            target_pose TEXT,
            tol_distance_mm REAL NOT NULL DEFAULT 3.0,
            tol_angle_deg REAL NOT NULL DEFAULT 3.0,
            pulses_delivered INTEGER NOT NULL DEFAULT 0,
            pulses_recorded INTEGER NOT NULL DEFAULT 0,
            trains_delivered INTEGER NOT NULL DEFAULT 0,
            pulses_on_target INTEGER,
            max_distance_mm REAL,
            mean_distance_mm REAL,
            frames_received INTEGER NOT NULL DEFAULT 0,
            frames_rejected INTEGER NOT NULL DEFAULT 0,
            frames_missing INTEGER NOT NULL DEFAULT 0,
            faults INTEGER NOT NULL DEFAULT 0,
            pauses INTEGER NOT NULL DEFAULT 0,
            duration_s REAL,
            heartbeat_at TEXT,
            recorder_pid INTEGER,
            recorder_host TEXT
        )""",
        "CREATE INDEX idx_sessions_patient ON sessions(patient_id, started_at)",
        "CREATE INDEX idx_sessions_started ON sessions(started_at)",
        "CREATE INDEX idx_sessions_status ON sessions(status)",
        # Append-only once ended: only a session still recording may change.
        """CREATE TRIGGER sessions_append_only BEFORE UPDATE ON sessions
           WHEN OLD.status != 'recording'
           BEGIN SELECT RAISE(ABORT, 'session has ended: append-only (add an addendum)'); END""",
        """CREATE TRIGGER sessions_no_delete BEFORE DELETE ON sessions
           BEGIN SELECT RAISE(ABORT, 'sessions are never deleted'); END""",
        # Every pulse with its pose and distance/angle at that pulse.
        """CREATE TABLE pulses (
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            count INTEGER NOT NULL,
            device_t_ms INTEGER NOT NULL,
            mso INTEGER NOT NULL,
            didt REAL,
            train INTEGER,
            x REAL, y REAL, z REAL, qw REAL, qx REAL, qy REAL, qz REAL,
            distance_mm REAL,
            angle_deg REAL,
            on_target INTEGER,
            PRIMARY KEY (session_id, count)
        ) WITHOUT ROWID""",
        # The record of a session only grows, and only while it is being recorded.
        """CREATE TRIGGER pulses_only_while_recording BEFORE INSERT ON pulses
           WHEN (SELECT status FROM sessions WHERE id = NEW.session_id) != 'recording'
           BEGIN SELECT RAISE(ABORT, 'session has ended: its pulses cannot change'); END""",
        """CREATE TRIGGER pulses_no_update BEFORE UPDATE ON pulses
           BEGIN SELECT RAISE(ABORT, 'pulses are append-only'); END""",
        """CREATE TRIGGER pulses_no_delete BEFORE DELETE ON pulses
           BEGIN SELECT RAISE(ABORT, 'pulses are append-only'); END""",
        # Pose between pulses, thinned by the recorder (change > 0.5 mm / 0.5 deg, >= 1 Hz).
        """CREATE TABLE poses (
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            idx INTEGER NOT NULL,
            device_t_ms INTEGER NOT NULL,
            x REAL, y REAL, z REAL, qw REAL, qx REAL, qy REAL, qz REAL,
            quality REAL NOT NULL,
            distance_mm REAL,
            angle_deg REAL,
            PRIMARY KEY (session_id, idx)
        ) WITHOUT ROWID""",
        """CREATE TRIGGER poses_only_while_recording BEFORE INSERT ON poses
           WHEN (SELECT status FROM sessions WHERE id = NEW.session_id) != 'recording'
           BEGIN SELECT RAISE(ABORT, 'session has ended: its poses cannot change'); END""",
        """CREATE TRIGGER poses_no_update BEFORE UPDATE ON poses
           BEGIN SELECT RAISE(ABORT, 'poses are append-only'); END""",
        """CREATE TRIGGER poses_no_delete BEFORE DELETE ON poses
           BEGIN SELECT RAISE(ABORT, 'poses are append-only'); END""",
        # Everything else that happened: faults, pauses, alarms, notes, side effects...
        """CREATE TABLE session_events (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            at TEXT NOT NULL,
            device_t_ms INTEGER,
            kind TEXT NOT NULL,
            code TEXT,
            detail TEXT,
            by_user TEXT
        )""",
        "CREATE INDEX idx_events_session ON session_events(session_id, id)",
        "CREATE INDEX idx_events_kind ON session_events(kind, session_id)",
        """CREATE TRIGGER session_events_no_update BEFORE UPDATE ON session_events
           BEGIN SELECT RAISE(ABORT, 'session events are append-only'); END""",
        """CREATE TRIGGER session_events_no_delete BEFORE DELETE ON session_events
           BEGIN SELECT RAISE(ABORT, 'session events are append-only'); END""",
        # Corrections and later remarks on an ended session.
        """CREATE TABLE addenda (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            at TEXT NOT NULL,
            by_user TEXT NOT NULL,
            text TEXT NOT NULL
        )""",
        "CREATE INDEX idx_addenda_session ON addenda(session_id)",
        """CREATE TRIGGER addenda_no_update BEFORE UPDATE ON addenda
           BEGIN SELECT RAISE(ABORT, 'addenda are append-only'); END""",
        """CREATE TRIGGER addenda_no_delete BEFORE DELETE ON addenda
           BEGIN SELECT RAISE(ABORT, 'addenda are append-only'); END""",
        # Outcome measures: PHQ-9 (items kept), HAM-D / MADRS totals.
        """CREATE TABLE outcomes (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            course_id INTEGER REFERENCES courses(id),
            session_id INTEGER REFERENCES sessions(id),
            instrument TEXT NOT NULL CHECK (instrument IN ('PHQ-9', 'HAM-D', 'MADRS')),
            total INTEGER NOT NULL,
            items TEXT,
            taken_at TEXT NOT NULL,
            entered_by TEXT
        )""",
        "CREATE INDEX idx_outcomes_course ON outcomes(course_id, taken_at)",
        # Clinic settings (tolerances, idle-lock minutes, ...): key -> JSON value.
        """CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            changed_by TEXT
        )""",
    ])


SIDE_EFFECT_RATING = ("(CASE WHEN json_valid(detail) "
                      "THEN CAST(json_extract(detail, '$.rating') AS INTEGER) END)")
"""A side effect's 0-10 rating as SQL; queries that want idx_events_rating use this exact text."""


@migrations(name="0002_review_indexes")
def m0002_review_indexes(db: Database) -> None:
    # The supervisor's review lists filter and sort a clinic-year of sessions
    # (console/review/queue.py); these keep each filter an index range, not a scan.
    _run(db, [
        "CREATE INDEX idx_sessions_technician ON sessions(technician, started_at)",
        "CREATE INDEX idx_sessions_protocol ON sessions(protocol, started_at)",
        "CREATE INDEX idx_sessions_course ON sessions(course_id, number_in_course)",
        # Review flags look up a few kinds of event (intensity alarms, device lost,
        # side effects) across all sessions at once: kind and code lead.
        "CREATE INDEX idx_events_kind_code ON session_events(kind, code, session_id)",
        # Side effects rated at or above the clinic's limit, without parsing every side
        # effect's JSON per query. Only side-effect rows are indexed, and a detail that is
        # not JSON indexes as NULL rather than failing the insert.
        f"CREATE INDEX idx_events_rating ON session_events({SIDE_EFFECT_RATING}, session_id) "
        "WHERE kind = 'side_effect'",
    ])


@migrations(name="0003_review_list_index")
def m0003_review_list_index(db: Database) -> None:
    _run(db, [
        # Everything the review list filters, flags and sorts on, in one narrow index: a list of
        # all sessions reads a few MB of it instead of every wide session row.
        """CREATE INDEX idx_sessions_review ON sessions(started_at, status, pulses_planned,
            pulses_delivered, pulses_recorded, pulses_on_target, faults, frames_missing, frames_rejected,
            patient_id, course_id, number_in_course, duration_s)""",
    ])


@migrations(name="0004_session_coil_and_pulse_observation")
def m0004_session_coil_and_pulse_observation(db: Database) -> None:
    _run(db, [
        # Issue 14, item 6 and issue 16: the coil the device reported during the session (NULL: the
        # device names none), so an MT measured on another coil type is caught and the record says
        # what was used.
        "ALTER TABLE sessions ADD COLUMN coil_type TEXT",
        # Issue 16: 0 when the device cannot report each pulse (a Magstim fired from its front panel
        # or a trigger line): the record then says "pulses not observed", never zero pulses.
        "ALTER TABLE sessions ADD COLUMN pulses_observed INTEGER NOT NULL DEFAULT 1 "
        "CHECK (pulses_observed IN (0, 1))",
    ])


@migrations(name="0005_two_device_sessions")
def m0005_two_device_sessions(db: Database) -> None:
    _run(db, [
        # Issue 17: how old the pose recorded with a pulse was when the pulse came (ms; NULL: no
        # pose recorded with it, the last one being too old or none seen).
        "ALTER TABLE pulses ADD COLUMN pose_age_ms INTEGER",
        # Issue 17: the coil tracker, when it is a device of its own beside the stimulator.
        "ALTER TABLE sessions ADD COLUMN tracker_url TEXT",
        "ALTER TABLE sessions ADD COLUMN tracker_vendor TEXT",
        "ALTER TABLE sessions ADD COLUMN tracker_model TEXT",
        "ALTER TABLE sessions ADD COLUMN tracker_serial TEXT",
    ])


@migrations(name="0006_chair_identity")
def m0006_chair_identity(db: Database) -> None:
    # Issue 18: this chair's own id at the clinic hub ("origin"), made once with the file, never
    # changed: the hub knows the chair's records by it.
    _run(db, [
        """CREATE TABLE chair_identity (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            origin TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TRIGGER chair_identity_fixed BEFORE UPDATE ON chair_identity
           BEGIN SELECT RAISE(ABORT, 'a chair''s id never changes: the hub knows its records by it'); END""",
        """CREATE TRIGGER chair_identity_no_delete BEFORE DELETE ON chair_identity
           BEGIN SELECT RAISE(ABORT, 'a chair''s id never changes: the hub knows its records by it'); END""",
    ])
    db.execute("INSERT INTO chair_identity (id, origin, created_at) VALUES (1, ?, ?)",
               [str(uuid.uuid4()), datetime.now(UTC).isoformat(timespec="milliseconds")])
