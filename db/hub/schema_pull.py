"""Hub schema version 4: reference data that flows both ways, and the conflicts it can make.

- ``accounts``: the chairs' user accounts (password hashes as the chairs hold them, argon2, never
  plain), so an account an admin made on one chair logs in on every chair after its pull. Keyed by
  the account's uuid; the per-chair counters (failed attempts, lock, last login) stay on each chair.
- ``revision`` on patients, courses and accounts: 1 when a row first reaches the hub, +1 each time
  the hub takes new values from a chair; ``changed_by`` the chair whose values the hub holds
  (NULL: a row pushed before version 4).
- ``reference_agreed``: per row and per chair, the revision and the hash of the values the hub took
  from that chair. With what the chair itself remembers of its last pull, it tells the hub whether
  a chair's differing values are an edit made on the chair (to be taken, or kept as a conflict) or
  merely older than the hub's (the chair's next pull brings the hub's).
- ``conflicts``: what the hub did not take, for an admin to see: a chair's edit that lost to one made
  elsewhere first (``kind`` 'edit': the loser's and the winner's values as JSON), or a patient (an
  account) made on two chairs with the same clinic id (user name), both kept (``kind`` 'same clinic
  id' / 'same user name'; ``other_uuid`` the row already there). Append-only.
- ``clinic_settings``: the clinic's settings (db.hub.settings_sync; never a chair's own, such as its
  hub address or name), the JSON value as the chair stores it, with a revision judged like a patient's
  (``changed_by`` the chair whose value the hub holds).
"""

from __future__ import annotations

ACCOUNT_VALUE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("username", "text NOT NULL"), ("full_name", "text NOT NULL"), ("role", "text NOT NULL"),
    ("password_hash", "text NOT NULL"), ("active", "bigint NOT NULL"),
    ("must_change_password", "bigint NOT NULL"), ("created_at", "text NOT NULL"), ("created_by", "text"),
    ("password_changed_at", "text NOT NULL"),
)
"""An account's columns that travel (the same names as the chair's ``users``)."""


_REVISED = ("patients", "courses", "accounts")

V4: list[str] = [
    f"""CREATE TABLE accounts (
    uuid text PRIMARY KEY, origin text NOT NULL, local_id bigint NOT NULL,
    {", ".join(f"{name} {kind}" for name, kind in ACCOUNT_VALUE_COLUMNS)}
    )""",
    # Two chairs may make the same user name offline: both kept, a conflict says so.
    "CREATE INDEX accounts_username ON accounts (lower(username))",
    *[statement for table in _REVISED for statement in (
        f"ALTER TABLE {table} ADD COLUMN revision bigint NOT NULL DEFAULT 1",
        f"ALTER TABLE {table} ADD COLUMN changed_by text",
        f"ALTER TABLE {table} ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now()",
    )],
    """CREATE TABLE reference_agreed (
    entity text NOT NULL, uuid text NOT NULL, origin text NOT NULL,
    revision bigint NOT NULL, values_hash text NOT NULL,
    PRIMARY KEY (origin, entity, uuid)
    )""",
    """CREATE TABLE conflicts (
    id bigserial PRIMARY KEY,
    entity text NOT NULL, uuid text NOT NULL, kind text NOT NULL,
    losing_origin text NOT NULL, other_uuid text,
    base_revision bigint, hub_revision bigint,
    loser_values jsonb, winner_values jsonb, loser_hash text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (entity, uuid, kind, losing_origin, loser_hash)
    )""",
    """CREATE TRIGGER conflicts_append_only BEFORE UPDATE OR DELETE ON conflicts
        FOR EACH ROW EXECUTE FUNCTION hub_refuse('conflicts at the hub are append-only')""",
    """CREATE TRIGGER conflicts_no_truncate BEFORE TRUNCATE ON conflicts
        FOR EACH STATEMENT EXECUTE FUNCTION hub_refuse('conflicts at the hub are append-only')""",
    """CREATE TABLE clinic_settings (
    key text PRIMARY KEY, value text NOT NULL,
    revision bigint NOT NULL DEFAULT 1, changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
    )""",
]
