"""The review lists at the hub: every chair's sessions, with chair and site as filters (issue 18).

The same two steps, order and flags as the chair's queue (console.review.queue), on the hub's
PostgreSQL tables, where sessions are keyed by uuid and every row names its chair (``origin``):

1. :func:`hub_find_sessions`: one statement filters, computes each session's flag mask
   (console.review.hub_flags: the chair's bits) and sorts, returning uuids and masks in order;
2. :func:`hub_rows_for`: the shown columns of a slice of them, with the chair's name and site and
   the sign-offs, those made on the chair and those made at a review station (``hub_signoffs``).

"Signed" at the hub: a sign-off (not an addendum's signature) in ``signatures`` or in
``hub_signoffs``. A hub sign-off the chair has taken back comes to the hub again as a chair
signature carrying its uuid (``hub_signoff_uuid``); it is shown and counted once.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from typing import IO, Any

import psycopg

from console.errors import ClinicError
from console.review.flags import CODES, FlagConfig, flag_config
from console.review.hub_flags import (
    NO_FLAGS_YET,
    hub_base_columns,
    hub_flag_ctes,
    hub_mask_params,
    hub_score_sql,
)
from console.review.queue import (
    REVIEW_STATES,
    SESSION_STATUSES,
    QueueRow,
    SignatureLine,
    _day_start_utc,
    check_filter,
    flag_condition,
    like_pattern,
    local_words,
)

log = logging.getLogger(__name__)

_C = ' COLLATE "C"'  # text in the chairs' byte order, as SQLite sorts it, whatever the hub's locale

# sort key -> SQL (s: sessions, p: patients, ch: chairs); ties break on the start time, then chair and id.
HUB_SORTS: dict[str, str] = {
    "problems": "score",
    "started": f"s.started_at{_C}",
    "patient": f"lower(p.clinic_id){_C}",
    "session": "s.number_in_course",
    "technician": f"lower(s.technician){_C}",
    "protocol": f"s.protocol{_C}",
    "status": f"s.status{_C}",
    "pulses": "s.pulses_delivered",
    "on_target": "(s.pulses_on_target * 1.0 / NULLIF(s.pulses_recorded, 0))",
    "duration": "s.duration_s",
    "flags": "score",
    "review": ("(SELECT max(x.signed_at) FROM (SELECT g.signed_at FROM signatures g "
               "WHERE g.session_uuid = s.uuid AND g.addendum_id IS NULL "
               "UNION ALL SELECT h.signed_at FROM hub_signoffs h "
               f"WHERE h.session_uuid = s.uuid) x){_C}"),
    "chair": f"lower(coalesce(ch.name, s.origin)){_C}",
    "site": f"lower(ch.site){_C}",
}

WORK_MEM = "32MB"
"""Memory for one list's sort and its sets at the hub (with PostgreSQL's default, 4MB, a list of a
clinic-year's sessions is sorted through temporary files)."""

_SIGNED_BY_CHAIR = "SELECT 1 FROM signatures g WHERE g.session_uuid = s.uuid AND g.addendum_id IS NULL"
_SIGNED_AT_HUB = "SELECT 1 FROM hub_signoffs h WHERE h.session_uuid = s.uuid"


@dataclass(frozen=True)
class HubReviewFilter:
    """What a hub list shows. Empty fields do not filter; dates are the reader's local days, inclusive.

    ``chair`` is a chair's id (its ``origin``), ``site`` a site name as the chairs report it,
    ``course`` a course's uuid.
    """

    review: str = "unsigned"
    chair: str | None = None
    site: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    technician: str | None = None
    patient: str | None = None
    protocol: str | None = None
    status: str | None = None
    flag: str | None = None
    search: str | None = None
    course: str | None = None
    sort: str = "problems"
    descending: bool = True

    def with_sort(self, key: str, descending: bool) -> HubReviewFilter:
        return replace(self, sort=key, descending=descending)


@dataclass
class HubReviewList:
    """The sessions of one filter, in order: uuids with their flag masks."""

    filter: HubReviewFilter
    config: FlagConfig
    uuids: list[str] = field(default_factory=list)
    masks: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.uuids)


@dataclass(frozen=True)
class HubQueueRow(QueueRow):
    """One line of a hub list: a chair's queue row (``id`` and ``course_id`` are that chair's own
    ids) with the session's uuid and the chair that recorded it."""

    uuid: str = field(default="", kw_only=True)
    origin: str = field(default="", kw_only=True)
    chair_name: str | None = field(default=None, kw_only=True)
    site: str | None = field(default=None, kw_only=True)

    @property
    def chair_words(self) -> str:
        """The chair as people call it: its name, else the start of its id."""
        return self.chair_name or f"chair {self.origin[:8]}"


@dataclass(frozen=True)
class HubChoices:
    """The values the hub's filters offer."""

    chairs: list[tuple[str, str | None, str | None]]
    """(origin, name, site) of every chair that has pushed, by name."""
    sites: list[str]
    technicians: list[str]
    protocols: list[str]
    statuses: tuple[str, ...] = SESSION_STATUSES
    reviews: tuple[str, ...] = REVIEW_STATES
    flags: tuple[str, ...] = CODES


def _where(f: HubReviewFilter, cfg: FlagConfig) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = hub_mask_params(cfg)
    check_filter(f.review, f.status, f.date_from, f.date_to)
    if f.review == "unsigned":
        where += [f"NOT EXISTS ({_SIGNED_BY_CHAIR})", f"NOT EXISTS ({_SIGNED_AT_HUB})"]
    elif f.review == "signed":
        # Two hashed look-ups (a UNION would be de-duplicated first, slower on 47,000 sign-offs).
        where.append(f"(EXISTS ({_SIGNED_BY_CHAIR}) OR EXISTS ({_SIGNED_AT_HUB}))")
    if f.chair:
        where.append("s.origin = %(chair)s")
        params["chair"] = f.chair.strip()
    if f.site:
        where.append("s.origin IN (SELECT origin FROM chairs WHERE site = %(site)s)")
        params["site"] = f.site.strip()
    if f.date_from is not None:
        where.append("s.started_at >= %(from)s")
        params["from"] = _day_start_utc(f.date_from)
    if f.date_to is not None:
        where.append("s.started_at < %(to)s")
        params["to"] = _day_start_utc(f.date_to + timedelta(days=1))
    for name, column in (("technician", "s.technician"), ("protocol", "s.protocol"),
                         ("course", "s.course_uuid")):
        value = getattr(f, name)
        if value:
            where.append(f"{column} = %({name})s")
            params[name] = value
    if f.patient:
        where.append("p.clinic_id = %(patient)s")
        params["patient"] = f.patient.strip()
    if f.status:
        where.append("s.status = %(status)s")
        params["status"] = f.status
    if f.search and f.search.strip():
        where.append("p.clinic_id ILIKE %(search)s ESCAPE '\\'")  # SQLite's LIKE ignores case too
        params["search"] = like_pattern(f.search)
    return where, params


def hub_find_sessions(conn: psycopg.Connection, f: HubReviewFilter | None = None,
                      config: FlagConfig | None = None) -> HubReviewList:
    """The uuids and flag masks of the hub sessions ``f`` selects, in its order (the queue by default).

    ``config``: the review station's flag rules (console.review.flags.flag_config on its own
    database); without one, the clinic's file and the shipped settings.
    """
    f = f or HubReviewFilter()
    cfg = config or flag_config(None)
    if f.sort not in HUB_SORTS:
        raise ClinicError(f"Cannot sort by {f.sort!r}; choose one of {', '.join(HUB_SORTS)}.")
    where, params = _where(f, cfg)
    direction = "DESC" if f.descending else "ASC"
    if f.sort in ("problems", "flags"):
        key = "0"
        order = f"listed.started_at{_C} {'ASC' if f.descending else 'DESC'}, listed.origin, listed.local_id"
    else:
        key = HUB_SORTS[f.sort]
        order = (f"listed.sort_key {direction} NULLS LAST, listed.started_at{_C} {direction}, "
                 f"listed.origin {direction}, listed.local_id {direction}")
    needs_patient = bool(f.patient or (f.search and f.search.strip()) or f.sort == "patient")
    needs_chair = f.sort in ("chair", "site")
    # base: the sessions the filter keeps, with what the flags and the order read (computed once);
    # then the flags of those sessions only, then the order.
    base = (f"SELECT {hub_base_columns('s')}, {key} AS sort_key FROM sessions s {NO_FLAGS_YET} "
            + ("JOIN patients p ON p.uuid = s.patient_uuid " if needs_patient else "")
            + ("LEFT JOIN chairs ch ON ch.origin = s.origin " if needs_chair else "")
            + (" WHERE " + " AND ".join(where) if where else ""))
    inner = ("SELECT b.uuid, b.origin, b.local_id, b.started_at, b.sort_key, "
             "coalesce(fl.bits, 0) | b.summary AS mask "
             "FROM base b LEFT JOIN flagged fl ON fl.session_uuid = b.uuid")
    flag_cond = flag_condition(f.flag, cfg)
    if key == "0":
        order = f"{hub_score_sql(cfg, 'listed.mask')} {direction}, {order}"
    sql = (f"WITH base AS MATERIALIZED ({base}), {hub_flag_ctes('base')}, "
           f"listed AS MATERIALIZED ({inner}) "
           "SELECT listed.uuid, listed.mask FROM listed "
           + (f"WHERE {flag_cond} " if flag_cond else "")
           + f"ORDER BY {order}")
    with conn.transaction():
        # A list of every session (50,000) is sorted and held in memory, not spilled to disk; and not
        # compiled first (PostgreSQL's JIT, set off by the estimated cost of a whole-year list, spends
        # about 100 ms compiling a query that runs in less).
        conn.execute(f"SET LOCAL work_mem = '{WORK_MEM}'; SET LOCAL jit = off".encode())
        rows = conn.execute(sql.encode(), params).fetchall()
    result = HubReviewList(f, cfg, [str(r[0]) for r in rows], [int(r[1]) for r in rows])
    log.debug("hub review list %s: %d sessions", f, len(result))
    return result


_ROW_COLUMNS = tuple(f.name for f in fields(QueueRow))[:16]

_ROW_SQL = """
SELECT s.local_id, s.started_at, p.clinic_id, p.initials, c.local_id, s.number_in_course, c.planned_sessions,
       s.technician, s.protocol, s.status, s.end_reason, s.pulses_planned, s.pulses_delivered,
       s.pulses_recorded, s.pulses_on_target, s.duration_s,
       (SELECT count(*) FROM addenda a WHERE a.session_uuid = s.uuid),
       s.uuid, s.origin, ch.name, ch.site
FROM sessions s JOIN patients p ON p.uuid = s.patient_uuid LEFT JOIN courses c ON c.uuid = s.course_uuid
LEFT JOIN chairs ch ON ch.origin = s.origin
WHERE s.uuid = ANY(%s)"""

_SIGNATURES_SQL = """
SELECT g.session_uuid, g.meaning, g.signer_name, g.signed_at, g.comment FROM signatures g
WHERE g.session_uuid = ANY(%(u)s) AND g.addendum_id IS NULL
UNION ALL
SELECT h.session_uuid, h.meaning, h.signer_name, h.signed_at, h.comment FROM hub_signoffs h
WHERE h.session_uuid = ANY(%(u)s)
  AND NOT EXISTS (SELECT 1 FROM signatures g2 WHERE g2.session_uuid = h.session_uuid
                  AND g2.hub_signoff_uuid = h.uuid)
ORDER BY 4, 2, 3"""


def hub_signatures_by_session(conn: psycopg.Connection,
                              uuids: Sequence[str]) -> dict[str, list[SignatureLine]]:
    """The sign-offs of these sessions, chairs' and review stations', oldest first, each once."""
    out: dict[str, list[SignatureLine]] = {}
    for uuid, meaning, name, at, comment in conn.execute(_SIGNATURES_SQL, {"u": list(uuids)}):
        out.setdefault(str(uuid), []).append(SignatureLine(meaning, name, at, comment))
    return out


def hub_rows_for(conn: psycopg.Connection, listed: HubReviewList, start: int, end: int) -> list[HubQueueRow]:
    """The rows ``start`` to ``end`` (exclusive) of a hub list, in its order."""
    uuids = listed.uuids[start:end]
    if not uuids:
        return []
    masks = dict(zip(uuids, listed.masks[start:end], strict=True))
    fetched = {str(r[17]): r for r in conn.execute(_ROW_SQL, (uuids,))}
    signatures = hub_signatures_by_session(conn, uuids)
    rows = []
    for uuid in uuids:
        r = fetched.get(uuid)
        if r is None:  # cannot happen (the hub never deletes a session); skip rather than crash
            continue
        mask = masks[uuid]
        rows.append(HubQueueRow(
            **dict(zip(_ROW_COLUMNS, r[:16], strict=True)),
            mask=mask, flags=tuple(rule.label for rule in listed.config.rules_in(mask)),
            signatures=tuple(signatures.get(uuid, ())), addenda=int(r[16]),
            uuid=uuid, origin=str(r[18]), chair_name=r[19], site=r[20],
        ))
    return rows


def hub_choices(conn: psycopg.Connection) -> HubChoices:
    """The chairs, sites, technicians and protocols that occur at the hub (and the fixed lists)."""
    chairs = [(str(o), n, s) for o, n, s in conn.execute(
        "SELECT origin, name, site FROM chairs ORDER BY lower(coalesce(name, origin)) COLLATE \"C\", origin")]
    sites = [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT site FROM chairs WHERE site IS NOT NULL ORDER BY 1")]
    techs = [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT technician FROM sessions WHERE technician IS NOT NULL")]
    protocols = [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT protocol FROM sessions WHERE protocol IS NOT NULL")]
    return HubChoices(chairs, sites, sorted(techs, key=str.lower), sorted(protocols))


def find_chair(conn: psycopg.Connection, given: str) -> str | None:
    """The origin of the chair a person names: its id, or its name (any case); None when unknown."""
    row = conn.execute("SELECT origin FROM chairs WHERE origin = %s OR lower(name) = lower(%s) "
                       "ORDER BY origin = %s DESC LIMIT 2", (given.strip(), given.strip(), given.strip())
                       ).fetchall()
    return str(row[0][0]) if row else None


HUB_CSV_COLUMNS = (
    "session_uuid", "chair", "site", "session", "started_local", "patient", "initials", "session_in_course",
    "planned_sessions", "technician", "protocol", "status", "end_reason", "pulses_planned",
    "pulses_delivered", "pulses_recorded", "pulses_on_target", "on_target_percent", "duration_s", "flags",
    "review", "signed_by", "signed_at", "meaning", "addenda",
)
"""The chair's CSV columns (console.review.queue.CSV_COLUMNS) with the session's uuid, chair and site
first; without the billing code, which the chair's own export gives."""


def write_hub_csv(conn: psycopg.Connection, listed: HubReviewList, out: IO[str], batch: int = 1000) -> int:
    """The hub list as CSV, one row per session in its order, sign-offs included; returns rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HUB_CSV_COLUMNS)
    n = 0
    for start in range(0, len(listed), batch):
        for row in hub_rows_for(conn, listed, start, start + batch):
            last = row.signatures[-1] if row.signatures else None
            share = row.on_target_share
            writer.writerow([_blank(v) for v in (
                row.uuid, row.chair_words, row.site, row.id, local_words(row.started_at), row.clinic_id,
                row.initials, row.number_in_course, row.planned_sessions, row.technician, row.protocol,
                row.status, row.end_reason, row.pulses_planned, row.pulses_delivered, row.pulses_recorded,
                row.pulses_on_target, None if share is None else f"{100 * share:.1f}", row.duration_s,
                "; ".join(row.flags), "signed" if last else "not signed", last.name if last else None,
                last.signed_at if last else None, last.meaning if last else None, row.addenda)])
            n += 1
    return n


def _blank(value: Any) -> Any:
    return "" if value is None else value
