"""Hub schema version 3: what review stations need beside the chairs' records.

- ``chairs`` gets the chair's ``name`` and ``site`` (the clinic settings ``chair_name`` and
  ``site``, sent with every push), so a review station filters by chair and by site, and how far
  the chair's clock was from the hub's at its last push (``clock_offset_s``);
- ``hub_signoffs``: a session signed off at a review station (the hub), by a person who
  authenticated there. Append-only. The chair that recorded the session takes it back on its next
  pull (db.hub.pull) as a signature of its own, keeping ``uuid`` so it is one sign-off, not two.
  ``hub_record_hash`` is the SHA-256 of the session as the hub held it when signed
  (console.review.hub_signoff.hub_record_hash); the chair checks its own record against the
  session's rows when it takes the sign-off back.
"""

from __future__ import annotations

from db.hub.review_indexes import V3_INDEXES

V3: list[str] = [
    "ALTER TABLE chairs ADD COLUMN name text",
    "ALTER TABLE chairs ADD COLUMN site text",
    # The hub's clock minus the chair's, in seconds, at the chair's last push: times in a chair's
    # records are as its clock said (never corrected); a clock hours off is said, not guessed away.
    "ALTER TABLE chairs ADD COLUMN clock_offset_s double precision",
    """CREATE TABLE hub_signoffs (
    uuid text PRIMARY KEY,
    session_uuid text NOT NULL REFERENCES sessions(uuid),
    station text NOT NULL,
    signer_uuid text,
    signer_username text NOT NULL,
    signer_name text NOT NULL,
    signer_role text NOT NULL,
    meaning text NOT NULL,
    comment text,
    signed_at text NOT NULL,
    hub_record_hash text NOT NULL
    )""",
    "CREATE INDEX hub_signoffs_session ON hub_signoffs (session_uuid)",
    # A chair's own sign-offs and the hub's are one list for "signed": the chair's copy of a hub
    # sign-off comes back in signatures with this uuid (see db.hub.pull).
    "ALTER TABLE signatures ADD COLUMN hub_signoff_uuid text",
    """CREATE TRIGGER hub_signoffs_append_only BEFORE UPDATE OR DELETE ON hub_signoffs
        FOR EACH ROW EXECUTE FUNCTION hub_refuse('hub_signoffs at the hub are append-only')""",
    """CREATE TRIGGER hub_signoffs_no_truncate BEFORE TRUNCATE ON hub_signoffs
        FOR EACH STATEMENT EXECUTE FUNCTION hub_refuse('hub_signoffs at the hub are append-only')""",
    # The review queue's reading of a side effect's rating and its indexes (db.hub.review_indexes).
    *V3_INDEXES,
]
