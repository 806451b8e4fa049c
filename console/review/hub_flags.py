"""The review flags of sessions at the hub (PostgreSQL): the SAME bit masks the chair computes.

The rules, bits, labels, weights and limits are console.review.flags' (:data:`CODES`,
:class:`FlagConfig`); only the SQL dialect differs. The flags read from the session row's summary
are the chair's own expression (:func:`console.review.flags.mask_sql`, whose SQL is plain enough
for PostgreSQL once its one parameter is named the psycopg way): :func:`hub_base_columns`. The
flags from events, overrides, adverse events and motor thresholds are written here against the
hub's tables, which key a session's rows by its uuid (a test compares every session's mask with
the chair's).

Differences of dialect kept equal in meaning:

- a side effect's rating is ``hub_side_effect_rating(detail)`` (db.hub.review_indexes), the
  chair's ``CAST(json_extract(detail, '$.rating') AS INTEGER)``;
- "measured + N days" is computed in UTC and written in the chairs' one time format, then compared
  as text, as SQLite's ``strftime`` does;
- bits of one session are OR-ed with ``bit_or``;
- times are compared byte by byte (``COLLATE "C"``), as SQLite compares text, whatever the hub's
  locale (and faster).

Motor thresholds at the hub are all the clinic's for that patient (a patient seen on two chairs has
the thresholds of both), which is what a review station should judge by.
"""

from __future__ import annotations

from typing import Any

from console.review.flags import CODES, FlagConfig, mask_sql
from db.hub.review_indexes import RATING_FUNCTION

__all__ = ["NO_FLAGS_YET", "hub_base_columns", "hub_flag_ctes", "hub_mask_params", "hub_score_sql"]

_UTC_MS = 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"'
"""to_char format of the chairs' one time format (db.database.utc_now)."""


def _bit(code: str) -> int:
    return 1 << CODES.index(code)


def hub_mask_params(config: FlagConfig) -> dict[str, Any]:
    """The named parameters (psycopg style) the SQL of this module uses."""
    return {"ot_min": config.on_target_min_percent, "se_min": config.side_effect_min,
            "mt_days": config.mt_days}


# As console.review.flags._MT_OLD, for the sessions of ``{base}`` only (the list's own, so a queue of
# a few thousand sessions does not judge all fifty thousand), in one anti-join: the chair's rule
# (each threshold opens a window [measured, next measured); sessions in it that started at or after
# measured + the limit used a stale threshold; sessions before the first threshold, or of a patient
# with none, had none) is, turned around: a session of a course used a current threshold when it
# started in some [measured, min(measured + limit, next measured)) of its patient, and is flagged
# when it did not.
_MT_OLD = f"""
    SELECT b2.uuid FROM {{base}} b2
    WHERE b2.in_course AND NOT EXISTS (
        SELECT 1 FROM (
            SELECT patient_uuid, measured_at,
                   least(to_char((measured_at::timestamptz AT TIME ZONE 'UTC')
                                 + make_interval(days => %(mt_days)s), '{_UTC_MS}') COLLATE "C",
                         lead(measured_at) OVER (PARTITION BY patient_uuid
                                                 ORDER BY measured_at, origin, local_id)) AS current_until
            FROM motor_thresholds) w
        WHERE w.patient_uuid = b2.patient_uuid
          AND b2.started_at >= w.measured_at COLLATE "C" AND b2.started_at < w.current_until COLLATE "C")"""


def hub_base_columns(alias: str = "s") -> str:
    """The select list a ``base`` relation of sessions gives :func:`hub_flag_ctes`, from the hub session
    row ``alias``: its uuid, patient, whether it belongs to a course, start, chair and chair id, and
    ``summary``, the flags read from the row's own summary (the chair's expression, with no flags from
    events yet: ``nf`` is a one-row relation ``(bits)`` of 0, joined by :data:`NO_FLAGS_YET`).

    Narrow on purpose: a list of every session holds 50,000 of these rows.
    """
    return (f"{alias}.uuid, {alias}.patient_uuid, {alias}.course_uuid IS NOT NULL AS in_course, "
            f"{alias}.started_at, {alias}.origin, {alias}.local_id, "
            f"{mask_sql(alias, 'nf').replace(':ot_min', '%(ot_min)s')} AS summary")


NO_FLAGS_YET = "CROSS JOIN (VALUES (0::bigint)) AS nf(bits)"
"""The join :func:`hub_base_columns` reads ``nf.bits`` from."""


def hub_flag_ctes(base: str) -> str:
    """Common table expressions giving ``flagged(session_uuid, bits)``: the flags that come from
    events, overrides, adverse events and motor thresholds, for the sessions that have any.

    ``base`` names a relation (a CTE) of the sessions wanted, with :func:`hub_base_columns`. The event
    sources are index ranges (events_kind_code, session_events_side_effect_rating) or small tables,
    read once per statement; the motor threshold windows are judged for ``base``'s sessions only.
    """
    b = _bit
    return f"""flag_sources(session_uuid, bit) AS (
        SELECT session_uuid, {b('adverse')} FROM session_events WHERE kind = 'adverse_event'
        UNION ALL SELECT session_uuid, {b('adverse')} FROM adverse_events WHERE session_uuid IS NOT NULL
        UNION ALL SELECT session_uuid, {b('adverse')} FROM session_events
            WHERE kind = 'side_effect' AND {RATING_FUNCTION}(detail) >= %(se_min)s
        UNION ALL SELECT session_uuid, {b('intensity')} FROM session_events
            WHERE kind = 'alarm' AND code = 'intensity'
        UNION ALL SELECT session_uuid, {b('intensity')} FROM overrides
            WHERE kind = 'intensity' AND session_uuid IS NOT NULL
        UNION ALL SELECT session_uuid, {b('device_lost')} FROM session_events WHERE kind = 'device_lost'
        UNION ALL SELECT uuid, {b('mt_old')} FROM ({_MT_OLD.format(base=base)}) mt),
    flagged AS (SELECT session_uuid, bit_or(bit) AS bits FROM flag_sources GROUP BY session_uuid)"""


def hub_score_sql(config: FlagConfig, mask: str) -> str:
    """The weight total of the mask expression ``mask`` (the queue's "problems first" order)."""
    return "(" + " + ".join(f"(CASE WHEN ({mask}) & {r.bit} <> 0 THEN {r.weight} ELSE 0 END)"
                            for r in config.rules) + ")"
