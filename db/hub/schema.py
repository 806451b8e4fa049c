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

Column lists live here once; :mod:`db.hub.push` reads the chair by the same
names, so a column added to both sides is a change in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

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

MIGRATIONS: tuple[tuple[int, Sequence[str]], ...] = ((1, _V1),)
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
