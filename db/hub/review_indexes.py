"""What the review queue at the hub (console.review.hub_queue) needs of the hub's schema: a function
reading a side effect's rating as the chair does, and the indexes that keep the queue's flags index
ranges on a clinic-year (50,000 sessions).

``hub_side_effect_rating(detail)`` is the hub's twin of the chair's
:data:`db.schema_core.SIDE_EFFECT_RATING` (``CAST(json_extract(detail, '$.rating') AS INTEGER)`` when
``detail`` is valid JSON): a JSON number is cut to its whole part, ``true``/``false`` are 1/0, a text
is read by its leading whole number (0 when it has none), an object or list is 0, anything else
(no rating, invalid JSON) NULL. PostgreSQL 15 has no safe JSON cast, hence plpgsql with an exception
block; it is IMMUTABLE so an index can hold its value, and the queue reads the index, not the
function, for each side effect. These statements are part of hub schema version 3
(db.hub.schema_review).
"""

from __future__ import annotations

RATING_FUNCTION = "hub_side_effect_rating"

V3_INDEXES: list[str] = [
    f"""CREATE OR REPLACE FUNCTION {RATING_FUNCTION}(detail text) RETURNS numeric
        LANGUAGE plpgsql IMMUTABLE AS $$
        DECLARE
          doc jsonb;
          v jsonb;
        BEGIN
          IF detail IS NULL THEN RETURN NULL; END IF;
          BEGIN
            doc := detail::jsonb;
          EXCEPTION WHEN others THEN
            RETURN NULL;
          END;
          IF jsonb_typeof(doc) <> 'object' THEN RETURN NULL; END IF;
          v := doc -> 'rating';
          IF v IS NULL THEN RETURN NULL; END IF;
          CASE jsonb_typeof(v)
            WHEN 'number' THEN RETURN trunc((v #>> '{{}}')::numeric);
            WHEN 'boolean' THEN RETURN CASE WHEN v = 'true'::jsonb THEN 1 ELSE 0 END;
            WHEN 'string' THEN
              RETURN coalesce(substring(v #>> '{{}}' FROM '^\\s*([+-]?[0-9]+)')::numeric, 0);
            WHEN 'null' THEN RETURN NULL;
            ELSE RETURN 0;
          END CASE;
        END $$""",
    # The side effects rated at or above the clinic's limit: an index range (as idx_events_rating).
    f"""CREATE INDEX IF NOT EXISTS session_events_side_effect_rating
        ON session_events ({RATING_FUNCTION}(detail), session_uuid) WHERE kind = 'side_effect'""",
    # "Signed by the chair": the sessions with a sign-off, read from a narrow index.
    """CREATE INDEX IF NOT EXISTS signatures_signed ON signatures (session_uuid)
        WHERE addendum_id IS NULL""",
    # A chair's copy of a hub sign-off, found by the hub's uuid (one sign-off, not two).
    """CREATE INDEX IF NOT EXISTS signatures_hub_signoff ON signatures (hub_signoff_uuid)
        WHERE hub_signoff_uuid IS NOT NULL""",
]
"""Statements of hub schema version 3 (db.hub.schema_review), in order; the hub's history: not to be
edited now that they have landed, only followed by a later version."""
