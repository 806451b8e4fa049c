"""The hub's PostgreSQL schema, made by :func:`init` (idempotent, versioned).

The hub mirrors the chair's SQLite tables a review station needs. Rows are
keyed by the chair rows' ``uuid`` where they have one (patients, courses,
sessions); a child row by its parent's uuid plus its own key (a pulse: session
uuid + count; an event: session uuid + the chair's event id); a row with no
uuid and no parent session (a motor threshold, an audit row) by the chair's
``origin`` plus its id on that chair. Every row carries ``origin``, the id of
the chair that made it, so a review station can filter by chair and the audit
chain is kept per chair.

Values are stored as the chair holds them (times as the chair's ISO-8601 text,
flags as integers), so "the hub equals the chair row for row" is a plain
comparison. The append-only rules of the chair hold here too, as plpgsql
triggers: ended sessions, pulses, poses, events, addenda, signatures and the
audit log are never changed, deleted or truncated.

Version 2 adds the clinical safety records (:data:`SAFETY_TABLES`), append-only
too, save an override's link to its session, set once as on the chair.

Column lists live here once; :mod:`db.hub.push` reads the chair by the same
names, so a column added to both sides is a change in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from db.hub.schema_pull import V4
from db.hub.schema_review import V3

Column = tuple[str, str]
"""A column's name (the same on the chair) and its PostgreSQL type."""

PATIENT_COLUMNS: tuple[Column, ...] = (
    ("clinic_id", "text NOT NULL"), ("name", "text NOT NULL"), ("date_of_birth", "text"),
    ("initials", "text NOT NULL"), ("created_at", "text NOT NULL"),
)
COURSE_COLUMNS: tuple[Column, ...] = (
    ("indication", "text NOT NULL"), ("protocol", "text NOT NULL"), ("target", "text NOT NULL"),
    ("targeting_method", "text"), ("target_pose", "text"), ("percent_mt", "double precision NOT NULL"),
    ("planned_sessions", "bigint NOT NULL"), ("schedule", "text NOT NULL"), ("status", "text NOT NULL"),
    ("close_reason", "text"), ("opened_at", "text NOT NULL"), ("closed_at", "text"),
)
MT_COLUMNS: tuple[Column, ...] = (
    ("mso", "double precision NOT NULL"), ("method", "text NOT NULL"), ("measured_at", "text NOT NULL"),
    ("measured_by", "text"), ("device_model", "text"), ("coil_type", "text"),
)
SESSION_COLUMNS: tuple[Column, ...] = (
    ("number_in_course", "bigint"), ("status", "text NOT NULL"), ("end_reason", "text"),
    ("started_at", "text NOT NULL"), ("ended_at", "text"), ("technician", "text"),
    ("device_url", "text NOT NULL"), ("device_vendor", "text"), ("device_model", "text"),
    ("device_serial", "text"), ("device_firmware", "text"), ("protocol", "text"),
    ("pulses_planned", "bigint"), ("mt_mso", "double precision"), ("percent_mt", "double precision"),
    ("prescribed_mso", "bigint"), ("target_pose", "text"), ("tol_distance_mm", "double precision NOT NULL"),
    ("tol_angle_deg", "double precision NOT NULL"), ("pulses_delivered", "bigint NOT NULL"),
    ("pulses_recorded", "bigint NOT NULL"), ("trains_delivered", "bigint NOT NULL"),
    ("pulses_on_target", "bigint"), ("max_distance_mm", "double precision"),
    ("mean_distance_mm", "double precision"), ("frames_received", "bigint NOT NULL"),
    ("frames_rejected", "bigint NOT NULL"), ("frames_missing", "bigint NOT NULL"),
    ("faults", "bigint NOT NULL"), ("pauses", "bigint NOT NULL"), ("duration_s", "double precision"),
    ("heartbeat_at", "text"), ("recorder_pid", "bigint"), ("recorder_host", "text"),
    ("coil_type", "text"), ("pulses_observed", "bigint NOT NULL"), ("tracker_url", "text"),
    ("tracker_vendor", "text"), ("tracker_model", "text"), ("tracker_serial", "text"),
)
_POSE = tuple((k, "double precision") for k in ("x", "y", "z", "qw", "qx", "qy", "qz"))
PULSE_COLUMNS: tuple[Column, ...] = (
    ("count", "bigint NOT NULL"), ("device_t_ms", "bigint NOT NULL"), ("mso", "bigint NOT NULL"),
    ("didt", "double precision"), ("train", "bigint"), *_POSE, ("distance_mm", "double precision"),
    ("angle_deg", "double precision"), ("on_target", "bigint"), ("pose_age_ms", "bigint"),
)
POSE_COLUMNS: tuple[Column, ...] = (
    ("idx", "bigint NOT NULL"), ("device_t_ms", "bigint NOT NULL"), *_POSE,
    ("quality", "double precision NOT NULL"), ("distance_mm", "double precision"),
    ("angle_deg", "double precision"),
)
EVENT_COLUMNS: tuple[Column, ...] = (
    ("at", "text NOT NULL"), ("device_t_ms", "bigint"), ("kind", "text NOT NULL"), ("code", "text"),
    ("detail", "text"), ("by_user", "text"),
)
ADDENDUM_COLUMNS: tuple[Column, ...] = (
    ("at", "text NOT NULL"), ("by_user", "text NOT NULL"), ("text", "text NOT NULL"),
)
SIGNATURE_COLUMNS: tuple[Column, ...] = (
    ("addendum_id", "bigint"), ("signer_username", "text NOT NULL"), ("signer_name", "text NOT NULL"),
    ("signer_role", "text NOT NULL"), ("meaning", "text NOT NULL"), ("comment", "text"),
    ("signed_at", "text NOT NULL"), ("record_hash", "text NOT NULL"),
)
AUDIT_COLUMNS: tuple[Column, ...] = (
    ("at", "text NOT NULL"), ("actor", "text NOT NULL"), ("action", "text NOT NULL"),
    ("entity", "text NOT NULL"), ("entity_id", "text"), ("old_values", "text"), ("new_values", "text"),
    ("prev_hash", "text"), ("hash", "text NOT NULL"),
)


@dataclass(frozen=True)
class SafetyTable:
    """A clinical safety table the hub mirrors whole, not tied to a pushed session (hub schema v2).

    ``refs``: (chair column, chair table it points to, hub column holding that row's uuid).
    The hub row is keyed by the chair's ``uuid`` where the table has one, else by
    (origin, local_id); every row also keeps ``local_id``, the chair's id, so the hub can
    say which rows of a chair it holds. ``linkable``: the one hub column the chair may set
    once, from NULL, after the row was made (an override linked to its session).
    """

    table: str
    has_uuid: bool
    refs: tuple[tuple[str, str, str], ...]
    columns: tuple[Column, ...]
    linkable: str | None = None


_PATIENT_REF = ("patient_id", "patients", "patient_uuid")
_COURSE_REF = ("course_id", "courses", "course_uuid")
_SESSION_REF = ("session_id", "sessions", "session_uuid")
_SIGNED = (("signed_by", "text NOT NULL"), ("signer_name", "text"), ("signer_role", "text NOT NULL"),
           ("signed_at", "text NOT NULL"))

SAFETY_TABLES: tuple[SafetyTable, ...] = (
    SafetyTable("screenings", True, (_PATIENT_REF, _COURSE_REF), (
        ("questionnaire_version", "text NOT NULL"), ("answers", "text NOT NULL"),
        ("contraindications", "text NOT NULL"), ("notes", "text"), ("by_user", "text NOT NULL"),
        ("at", "text NOT NULL"))),
    SafetyTable("clearances", True, (_PATIENT_REF, ("screening_id", "screenings", "screening_uuid")), (
        ("items", "text NOT NULL"), ("reason", "text NOT NULL"), *_SIGNED)),
    SafetyTable("overrides", True, (_PATIENT_REF, _COURSE_REF, _SESSION_REF), (
        ("kind", "text NOT NULL"), ("violations", "text NOT NULL"), ("reason", "text NOT NULL"),
        ("by_user", "text NOT NULL"), ("by_role", "text NOT NULL"), ("signed", "bigint NOT NULL"),
        ("at", "text NOT NULL")), linkable="session_uuid"),
    SafetyTable("adverse_events", True, (_PATIENT_REF, _COURSE_REF, _SESSION_REF), (
        ("kind", "text NOT NULL"), ("occurred_at", "text NOT NULL"), ("description", "text NOT NULL"),
        ("actions_taken", "text"), ("by_user", "text NOT NULL"), ("recorded_at", "text NOT NULL"))),
    # No uuid on the chair: keyed by (origin, local_id); a safety notification names its outcome so.
    SafetyTable("outcomes", False, (_PATIENT_REF, _COURSE_REF, _SESSION_REF), (
        ("instrument", "text NOT NULL"), ("total", "bigint NOT NULL"), ("items", "text"),
        ("taken_at", "text NOT NULL"), ("entered_by", "text"))),
    SafetyTable("safety_notifications", False, (), (
        ("outcome_id", "bigint NOT NULL"), ("told_whom", "text NOT NULL"), ("told_at", "text NOT NULL"),
        ("note", "text"), ("by_user", "text NOT NULL"), ("recorded_at", "text NOT NULL"))),
    # subject_id: the chair's id of the adverse event or motor threshold the review is of (same origin).
    SafetyTable("physician_holds_lifted", True, (_PATIENT_REF, _COURSE_REF), (
        ("kind", "text NOT NULL"), ("subject_id", "bigint"), ("reason", "text NOT NULL"), *_SIGNED)),
    SafetyTable("pre_session_checklists", True, (_PATIENT_REF, _COURSE_REF), (
        ("at", "text NOT NULL"), ("by_user", "text NOT NULL"), ("answers", "text NOT NULL"),
        ("holds", "text NOT NULL"))),
)
"""In push order: a clearance after its screening, a notification after its outcome."""

APPEND_ONLY = ("sessions", "pulses", "poses", "session_events", "addenda", "signatures", "audit_log")
"""Tables whose rows the hub never changes or deletes, as on the chair."""


def names(columns: Sequence[Column]) -> list[str]:
    return [name for name, _ in columns]


def _cols(columns: Sequence[Column]) -> str:
    return ",\n    ".join(f"{name} {kind}" for name, kind in columns)


def _append_only(table: str) -> list[str]:
    message = f"{table} at the hub are append-only"
    return [
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION hub_refuse('{message}')""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION hub_refuse('{message}')""",
    ]


_V1: list[str] = [
    # One function raises for every append-only table, with the table's own message.
    """CREATE FUNCTION hub_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation'; END $$""",
    # The chairs that have pushed: when first and last (bookkeeping for people, not for correctness).
    """CREATE TABLE chairs (
    origin text PRIMARY KEY,
    first_push_at timestamptz NOT NULL DEFAULT now(),
    last_push_at timestamptz NOT NULL DEFAULT now()
    )""",
    f"""CREATE TABLE patients (
    uuid text PRIMARY KEY, origin text NOT NULL, local_id bigint NOT NULL,
    {_cols(PATIENT_COLUMNS)}
    )""",
    # Two chairs may create the same clinic id offline: not unique here (conflicts are for later).
    "CREATE INDEX patients_clinic_id ON patients (lower(clinic_id))",
    f"""CREATE TABLE courses (
    uuid text PRIMARY KEY, origin text NOT NULL, local_id bigint NOT NULL,
    patient_uuid text NOT NULL REFERENCES patients(uuid),
    {_cols(COURSE_COLUMNS)}
    )""",
    "CREATE INDEX courses_patient ON courses (patient_uuid)",
    f"""CREATE TABLE motor_thresholds (
    origin text NOT NULL, local_id bigint NOT NULL,
    patient_uuid text NOT NULL REFERENCES patients(uuid),
    {_cols(MT_COLUMNS)},
    PRIMARY KEY (origin, local_id)
    )""",
    "CREATE INDEX mt_patient ON motor_thresholds (patient_uuid, measured_at)",
    f"""CREATE TABLE sessions (
    uuid text PRIMARY KEY, origin text NOT NULL, local_id bigint NOT NULL,
    patient_uuid text NOT NULL REFERENCES patients(uuid),
    course_uuid text REFERENCES courses(uuid),
    {_cols(SESSION_COLUMNS)},
    received_at timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'recording')
    )""",
    "CREATE INDEX sessions_origin ON sessions (origin, local_id)",
    "CREATE INDEX sessions_started ON sessions (started_at)",
    "CREATE INDEX sessions_patient ON sessions (patient_uuid, started_at)",
    f"""CREATE TABLE pulses (
    session_uuid text NOT NULL REFERENCES sessions(uuid), origin text NOT NULL,
    {_cols(PULSE_COLUMNS)},
    PRIMARY KEY (session_uuid, count)
    )""",
    f"""CREATE TABLE poses (
    session_uuid text NOT NULL REFERENCES sessions(uuid), origin text NOT NULL,
    {_cols(POSE_COLUMNS)},
    PRIMARY KEY (session_uuid, idx)
    )""",
    f"""CREATE TABLE session_events (
    session_uuid text NOT NULL REFERENCES sessions(uuid), event_id bigint NOT NULL, origin text NOT NULL,
    {_cols(EVENT_COLUMNS)},
    PRIMARY KEY (session_uuid, event_id)
    )""",
    "CREATE INDEX events_kind_code ON session_events (kind, code, session_uuid)",
    f"""CREATE TABLE addenda (
    session_uuid text NOT NULL REFERENCES sessions(uuid), addendum_id bigint NOT NULL, origin text NOT NULL,
    {_cols(ADDENDUM_COLUMNS)},
    PRIMARY KEY (session_uuid, addendum_id)
    )""",
    f"""CREATE TABLE signatures (
    session_uuid text NOT NULL REFERENCES sessions(uuid), signature_id bigint NOT NULL,
    origin text NOT NULL, user_uuid text,
    {_cols(SIGNATURE_COLUMNS)},
    PRIMARY KEY (session_uuid, signature_id)
    )""",
    # Each chair's audit chain, whole and in order: rows are keyed by the chair's own ids.
    f"""CREATE TABLE audit_log (
    origin text NOT NULL, id bigint NOT NULL,
    {_cols(AUDIT_COLUMNS)},
    PRIMARY KEY (origin, id)
    )""",
    *[statement for table in APPEND_ONLY for statement in _append_only(table)],
    # As on the chair: a signed session is locked, its event log takes no new rows (addenda instead).
    # An event the hub holds already may be delivered again (ON CONFLICT DO NOTHING then drops it).
    """CREATE FUNCTION hub_events_locked_when_signed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM signatures
                    WHERE session_uuid = NEW.session_uuid AND addendum_id IS NULL)
            AND NOT EXISTS (SELECT 1 FROM session_events
                            WHERE session_uuid = NEW.session_uuid AND event_id = NEW.event_id) THEN
           RAISE EXCEPTION 'session is signed and locked: add an addendum instead'
             USING ERRCODE = 'restrict_violation';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER session_events_locked_when_signed BEFORE INSERT ON session_events
       FOR EACH ROW EXECUTE FUNCTION hub_events_locked_when_signed()""",
]


def _safety_table(t: SafetyTable) -> list[str]:
    key = "uuid text PRIMARY KEY, origin text NOT NULL, local_id bigint NOT NULL" if t.has_uuid else \
        "origin text NOT NULL, local_id bigint NOT NULL"
    # Patients and courses go to the hub with the rows that name them; a session may not be there
    # yet (still recording, or held from another chair), so session_uuid is not a foreign key.
    refs = [f"{hub} text" + (f" REFERENCES {parent}(uuid)" if parent in ("patients", "courses") else "")
            for _, parent, hub in t.refs]
    body = ",\n    ".join([key, *refs, _cols(t.columns)])
    tail = "" if t.has_uuid else ",\n    PRIMARY KEY (origin, local_id)"
    made = [f"CREATE TABLE {t.table} (\n    {body}{tail}\n    )"]
    if t.has_uuid:
        made.append(f"CREATE UNIQUE INDEX {t.table}_origin_local ON {t.table} (origin, local_id)")
    if ("patient_id", "patients", "patient_uuid") in t.refs:
        made.append(f"CREATE INDEX {t.table}_patient ON {t.table} (patient_uuid)")
    if t.linkable is None:
        return made + _append_only(t.table)
    # As on the chair: only setting the link once, from NULL; nothing else changes, nothing is deleted.
    others = [n for n in ("uuid", "origin", "local_id", *(h for _, _, h in t.refs), *names(t.columns))
              if n != t.linkable]
    same = " AND ".join(f"NEW.{n} IS NOT DISTINCT FROM OLD.{n}" for n in others)
    message = f"{t.table} at the hub are append-only (only linking to its session is allowed)"
    return [
        *made,
        f"""CREATE FUNCTION hub_{t.table}_link_once() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             IF TG_OP = 'UPDATE' AND OLD.{t.linkable} IS NULL AND NEW.{t.linkable} IS NOT NULL
                AND {same} THEN
               RETURN NEW;
             END IF;
             RAISE EXCEPTION '{message}' USING ERRCODE = 'restrict_violation';
           END $$""",
        f"""CREATE TRIGGER {t.table}_append_only BEFORE UPDATE OR DELETE ON {t.table}
            FOR EACH ROW EXECUTE FUNCTION hub_{t.table}_link_once()""",
        f"""CREATE TRIGGER {t.table}_no_truncate BEFORE TRUNCATE ON {t.table}
            FOR EACH STATEMENT EXECUTE FUNCTION hub_refuse('{message}')""",
    ]


# Version 2 (issue 18, second part): the clinical safety records, pushed whole at every push.
_V2: list[str] = [statement for t in SAFETY_TABLES for statement in _safety_table(t)]

MIGRATIONS: tuple[tuple[int, Sequence[str]], ...] = ((1, _V1), (2, _V2), (3, V3), (4, V4))
"""(version, statements), in order; a version that has landed is never edited, only followed."""

SCHEMA_VERSION = MIGRATIONS[-1][0]

_LOCK_KEY = 0x746D7368  # "tmsh": one init at a time, however many chairs start together


def version(conn: psycopg.Connection) -> int:
    """The hub's schema version (0: not initialised)."""
    exists = conn.execute("SELECT to_regclass('hub_schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT max(version) FROM hub_schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def init(conn: psycopg.Connection) -> list[int]:
    """Bring the hub's schema up to date; returns the versions applied (none when already current).

    Each version runs in its own transaction under an advisory lock, so two
    chairs initialising one hub at once cannot both apply it, and a failing
    version leaves the hub at the one before.
    """
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("""CREATE TABLE IF NOT EXISTS hub_schema_version (
            version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())""")
    for number, statements in MIGRATIONS:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            if version(conn) >= number:
                continue
            for statement in statements:
                conn.execute(statement.encode())
            conn.execute("INSERT INTO hub_schema_version (version) VALUES (%s)", (number,))
            applied.append(number)
    return applied
