"""Schema for clinical safety: screenings, clearances, overrides, adverse events.

Its own migration set (``tms_console_clinical``), applied after the core and
accounts sets. Every table here is a record of something a person answered,
decided or saw, so every table is append-only, enforced by triggers in the
file itself. The one exception is narrow: an override given before a session
existed may later be linked to that session (``session_id`` set once, from
NULL), and nothing else about it may change.

JSON columns hold what a person answered exactly as answered (item ids,
"yes"/"no", notes), so a later edit of the clinic's questionnaire cannot
change what an old screening says.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from db.migration_sql import run_statements as _run

migrations = Migrations("tms_console_clinical")




def _append_only(table: str, what: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
           BEGIN SELECT RAISE(ABORT, '{what} are append-only'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
           BEGIN SELECT RAISE(ABORT, '{what} are append-only'); END""",
    ]


@migrations(name="0001_screenings")
def m0001_screenings(db: Database) -> None:
    _run(
        db,
        [
            # The TMS safety screening questionnaire as answered. answers: JSON
            # {item_id: {"answer": "yes"|"no", "note": str|null}}; contraindications:
            # JSON list of the item ids answered "yes" that the questionnaire then
            # configured as absolute contraindications (kept so that a later change
            # of the configuration does not change what blocked this course).
            """CREATE TABLE screenings (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            course_id INTEGER REFERENCES courses(id),
            questionnaire_version TEXT NOT NULL,
            answers TEXT NOT NULL,
            contraindications TEXT NOT NULL DEFAULT '[]',
            notes TEXT,
            by_user TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
            "CREATE INDEX idx_screenings_patient ON screenings(patient_id, at)",
            *_append_only("screenings", "screenings"),
            # A supervisor's signed clearance of the absolute contraindications of
            # one screening (re-authenticated with their password), with the reason.
            """CREATE TABLE clearances (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            screening_id INTEGER NOT NULL REFERENCES screenings(id),
            items TEXT NOT NULL,
            reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
            signed_by TEXT NOT NULL,
            signer_name TEXT,
            signer_role TEXT NOT NULL,
            signed_at TEXT NOT NULL
        )""",
            "CREATE INDEX idx_clearances_screening ON clearances(screening_id)",
            *_append_only("clearances", "clearances"),
        ],
    )


@migrations(name="0002_overrides")
def m0002_overrides(db: Database) -> None:
    _run(
        db,
        [
            # A person's decision to go on although a check said no:
            #   safety_limit - the protocol is outside the clinic's safety limits (supervisor, signed)
            #   intensity    - the device intensity differs from the prescription
            #   schedule     - a session earlier than the course schedule allows
            # violations: JSON list of {"code", "message"} as the check reported them.
            """CREATE TABLE overrides (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('safety_limit', 'intensity', 'schedule')),
            patient_id INTEGER REFERENCES patients(id),
            course_id INTEGER REFERENCES courses(id),
            session_id INTEGER REFERENCES sessions(id),
            violations TEXT NOT NULL,
            reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
            by_user TEXT NOT NULL,
            by_role TEXT NOT NULL,
            signed INTEGER NOT NULL DEFAULT 0 CHECK (signed IN (0, 1)),
            at TEXT NOT NULL,
            CHECK (course_id IS NOT NULL OR session_id IS NOT NULL)
        )""",
            "CREATE INDEX idx_overrides_course ON overrides(course_id, at)",
            "CREATE INDEX idx_overrides_session ON overrides(session_id)",
            # Only linking to the session it was given for, once; nothing else changes.
            """CREATE TRIGGER overrides_no_update BEFORE UPDATE ON overrides
           WHEN OLD.session_id IS NOT NULL
             OR NEW.session_id IS NULL
             OR NEW.id IS NOT OLD.id OR NEW.uuid IS NOT OLD.uuid OR NEW.kind IS NOT OLD.kind
             OR NEW.patient_id IS NOT OLD.patient_id OR NEW.course_id IS NOT OLD.course_id
             OR NEW.violations IS NOT OLD.violations OR NEW.reason IS NOT OLD.reason
             OR NEW.by_user IS NOT OLD.by_user OR NEW.by_role IS NOT OLD.by_role
             OR NEW.signed IS NOT OLD.signed OR NEW.at IS NOT OLD.at
           BEGIN
             SELECT RAISE(ABORT, 'overrides are append-only (only linking to its session is allowed)');
           END""",
            """CREATE TRIGGER overrides_no_delete BEFORE DELETE ON overrides
           BEGIN SELECT RAISE(ABORT, 'overrides are append-only'); END""",
        ],
    )


@migrations(name="0003_adverse_events")
def m0003_adverse_events(db: Database) -> None:
    _run(
        db,
        [
            # A seizure or other adverse event: when it happened (pressed the key),
            # what happened, what was done. A copy goes into session_events too, so
            # the session's own log shows it in order.
            """CREATE TABLE adverse_events (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            course_id INTEGER REFERENCES courses(id),
            session_id INTEGER REFERENCES sessions(id),
            kind TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            description TEXT NOT NULL,
            actions_taken TEXT,
            by_user TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        )""",
            "CREATE INDEX idx_adverse_patient ON adverse_events(patient_id, occurred_at)",
            *_append_only("adverse_events", "adverse events"),
            # Who was told of a PHQ-9 item 9 answer above 0, and when (for the handoff note).
            """CREATE TABLE safety_notifications (
            id INTEGER PRIMARY KEY,
            outcome_id INTEGER NOT NULL REFERENCES outcomes(id),
            told_whom TEXT NOT NULL CHECK (length(trim(told_whom)) > 0),
            told_at TEXT NOT NULL,
            note TEXT,
            by_user TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        )""",
            "CREATE INDEX idx_safety_notifications_outcome ON safety_notifications(outcome_id)",
            *_append_only("safety_notifications", "safety notifications"),
        ],
    )


@migrations(name="0004_mt_device_and_physician_holds")
def m0004_mt_device_and_physician_holds(db: Database) -> None:
    """Issue 14, items 6 and 8: the device and coil an MT was measured on, and a physician's
    signed review that lifts a hold on a course (a seizure, an overdue MT, an MT not re-measured
    after a change of medication)."""
    _run(
        db,
        [
            # NULL for measurements recorded before the program asked (their device is not known).
            "ALTER TABLE motor_thresholds ADD COLUMN device_model TEXT",
            "ALTER TABLE motor_thresholds ADD COLUMN coil_type TEXT",
            # kind: seizure (subject_id: the adverse event), mt_overdue / mt_medication (subject_id:
            # the motor threshold it lets the course go on with). The physician re-authenticated.
            """CREATE TABLE physician_holds_lifted (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('seizure', 'mt_overdue', 'mt_medication')),
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            course_id INTEGER REFERENCES courses(id),
            subject_id INTEGER,
            reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
            signed_by TEXT NOT NULL,
            signer_name TEXT,
            signer_role TEXT NOT NULL,
            signed_at TEXT NOT NULL
        )""",
            "CREATE INDEX idx_holds_lifted_course ON physician_holds_lifted(course_id, kind)",
            *_append_only("physician_holds_lifted", "physician reviews of holds"),
        ],
    )


_HOLDS_LIFTED_COLUMNS = ("id, uuid, kind, patient_id, course_id, subject_id, reason, signed_by, signer_name, "
                         "signer_role, signed_at")


@migrations(name="0005_checklist_holds")
def m0005_checklist_holds(db: Database) -> None:
    """Issue 14, items 4 and 10: a checklist answer that needs a physician (a new seizure, implant,
    possible pregnancy, thoughts of self-harm) holds the course until a physician's signed review,
    and a medication change counts from the checklist, before the session exists. The checklist
    is kept when it is answered, whether or not a session follows; a physician's review of it is
    one more kind of hold lifted (SQLite cannot widen a CHECK, so that table is rebuilt)."""
    _run(
        db,
        [
            # answers: [{id, question, answer, note}] as answered; holds: the item ids whose answer
            # the clinic's checklist (physician_on) sent to a physician at that moment.
            """CREATE TABLE pre_session_checklists (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            course_id INTEGER REFERENCES courses(id),
            at TEXT NOT NULL,
            by_user TEXT NOT NULL,
            answers TEXT NOT NULL,
            holds TEXT NOT NULL DEFAULT '[]'
        )""",
            "CREATE INDEX idx_checklists_patient ON pre_session_checklists(patient_id, at)",
            *_append_only("pre_session_checklists", "checklists"),
            "DROP TRIGGER physician_holds_lifted_no_update",
            "DROP TRIGGER physician_holds_lifted_no_delete",
            "ALTER TABLE physician_holds_lifted RENAME TO physician_holds_lifted_0004",
            """CREATE TABLE physician_holds_lifted (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('seizure', 'mt_overdue', 'mt_medication', 'checklist')),
            patient_id INTEGER NOT NULL REFERENCES patients(id),
            course_id INTEGER REFERENCES courses(id),
            subject_id INTEGER,
            reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
            signed_by TEXT NOT NULL,
            signer_name TEXT,
            signer_role TEXT NOT NULL,
            signed_at TEXT NOT NULL
        )""",
            f"INSERT INTO physician_holds_lifted ({_HOLDS_LIFTED_COLUMNS}) "
            f"SELECT {_HOLDS_LIFTED_COLUMNS} FROM physician_holds_lifted_0004",
            "DROP INDEX IF EXISTS idx_holds_lifted_course",
            "DROP TABLE physician_holds_lifted_0004",
            "CREATE INDEX idx_holds_lifted_course ON physician_holds_lifted(course_id, kind)",
            *_append_only("physician_holds_lifted", "physician reviews of holds"),
        ],
    )
