"""The supervisor's review lists: the queue of unsigned sessions, problems first, and any filtered list.

Plain queries, no widgets. A list is made in two steps so it stays instant on
a clinic-year database (50,000 sessions):

1. :func:`find_sessions` runs one query that filters, computes every
   session's flags (console.review.flags) and sorts, returning only the ids
   and flag masks in order - cheap to fetch, and the exact count;
2. :func:`rows_for` fetches the shown columns for a slice of those ids (the
   rows on screen, or a batch of the CSV export), signatures included.

Filters: date range (local days), technician, patient, protocol, session
status, review state (unsigned / signed / all), one flag, and a search of
clinic ids. Any column sorts; the default order is problems first (the
flags' weights, heaviest total first), then oldest first, so the session
that has waited longest with the worst problems is on top.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from typing import IO, Any

import sqlite_utils

from console.errors import ClinicError
from console.review.billing import CptCode, cpt_codes
from console.review.flags import CODES, FlagConfig, flag_config, flag_ctes, mask_params, mask_sql, score_sql
from db.database import to_utc_iso

log = logging.getLogger(__name__)

REVIEW_STATES = ("unsigned", "signed", "all")
SESSION_STATUSES = ("completed", "stopped", "aborted", "interrupted", "recording")
ANY_FLAG = "any"
NO_FLAG = "none"

# sort key -> SQL (the alias s is sessions, p patients, c courses); ties break on the start time, id.
SORTS: dict[str, str] = {
    "problems": "score",
    "started": "s.started_at",
    "patient": "p.clinic_id COLLATE NOCASE",
    "session": "s.number_in_course",
    "technician": "s.technician COLLATE NOCASE",
    "protocol": "s.protocol",
    "status": "s.status",
    "pulses": "s.pulses_delivered",
    "on_target": "(s.pulses_on_target * 1.0 / NULLIF(s.pulses_recorded, 0))",
    "duration": "s.duration_s",
    "flags": "score",
    "review": "(SELECT max(g.id) FROM signatures g WHERE g.session_id = s.id AND g.addendum_id IS NULL)",
}


@dataclass(frozen=True)
class ReviewFilter:
    """What a list shows. Empty fields do not filter; dates are the computer's local days, inclusive."""

    review: str = "unsigned"
    date_from: date | None = None
    date_to: date | None = None
    technician: str | None = None
    patient: str | None = None
    protocol: str | None = None
    status: str | None = None
    flag: str | None = None
    search: str | None = None
    course_id: int | None = None
    sort: str = "problems"
    descending: bool = True

    def with_sort(self, key: str, descending: bool) -> ReviewFilter:
        return replace(self, sort=key, descending=descending)


@dataclass
class ReviewList:
    """The sessions of one filter, in order: ids with their flag masks (see :func:`find_sessions`)."""

    filter: ReviewFilter
    config: FlagConfig
    ids: list[int] = field(default_factory=list)
    masks: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class SignatureLine:
    """A sign-off as every list and print shows it: name, time and meaning."""

    meaning: str
    name: str
    signed_at: str
    comment: str | None = None

    def words(self) -> str:
        return f"{self.meaning.capitalize()} by {self.name}, {local_words(self.signed_at)}"


@dataclass(frozen=True)
class QueueRow:
    """One line of a review list."""

    id: int
    started_at: str
    clinic_id: str
    initials: str
    course_id: int | None
    number_in_course: int | None
    planned_sessions: int | None
    technician: str | None
    protocol: str | None
    status: str
    end_reason: str | None
    pulses_planned: int | None
    pulses_delivered: int
    pulses_recorded: int
    pulses_on_target: int | None
    duration_s: float | None
    mask: int
    flags: tuple[str, ...]
    """The labels of the raised flags, most serious first."""
    signatures: tuple[SignatureLine, ...] = ()
    addenda: int = 0
    technician_name: str | None = None
    """The technician's full name (``technician`` is the user name the record keeps)."""

    @property
    def on_target_share(self) -> float | None:
        if self.pulses_on_target is None or not self.pulses_recorded:
            return None
        return self.pulses_on_target / self.pulses_recorded

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    @property
    def review_words(self) -> str:
        """'Not signed' or the latest sign-off: meaning, name, time."""
        return self.signatures[-1].words() if self.signatures else "Not signed"


def local_words(iso: str | None) -> str:
    """A stored UTC time as the reader's local date and time, to the minute."""
    if not iso:
        return "–"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _day_start_utc(day: date) -> str:
    return to_utc_iso(datetime.combine(day, time.min))


def check_filter(review: str, status: str | None, date_from: date | None, date_to: date | None) -> None:
    """A list's filter as a person may give it, or ClinicError saying what is wrong (a chair's list
    and the hub's alike)."""
    if review not in REVIEW_STATES:
        raise ClinicError(f"Review state is one of {', '.join(REVIEW_STATES)}, not {review!r}.")
    if status and status not in SESSION_STATUSES:
        raise ClinicError(f"Session status is one of {', '.join(SESSION_STATUSES)}, not {status!r}.")
    if date_from and date_to and date_to < date_from:
        raise ClinicError("The date range ends before it starts.")


def like_pattern(search: str) -> str:
    """A clinic-id search as a LIKE pattern (escape '\\'): the text anywhere, its wildcards literal."""
    text = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"


def flag_condition(flag: str | None, cfg: FlagConfig, mask: str = "listed.mask") -> str | None:
    """The SQL condition of the flag filter on a list's ``mask`` column (None: no flag filter)."""
    if not flag:
        return None
    if flag == ANY_FLAG:
        return f"{mask} <> 0"
    if flag == NO_FLAG:
        return f"{mask} = 0"
    return f"{mask} & {cfg.rule(flag).bit} <> 0"


def _where(f: ReviewFilter, cfg: FlagConfig) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = mask_params(cfg)
    check_filter(f.review, f.status, f.date_from, f.date_to)
    # Any signature row means signed: an addendum is signed only on a session already signed
    # (console.review.signoff), and the session ids alone are read from the narrow index.
    signed = "SELECT session_id FROM signatures INDEXED BY idx_signatures_session"
    if f.review == "unsigned":
        where += [f"s.id NOT IN ({signed})", "s.status != 'recording'"]
    elif f.review == "signed":
        where.append(f"s.id IN ({signed})")
    if f.date_from is not None:
        where.append("s.started_at >= :from")
        params["from"] = _day_start_utc(f.date_from)
    if f.date_to is not None:
        where.append("s.started_at < :to")
        params["to"] = _day_start_utc(f.date_to + timedelta(days=1))
    if f.technician:
        where.append("s.technician = :technician")
        params["technician"] = f.technician
    if f.patient:
        where.append("p.clinic_id = :patient")
        params["patient"] = f.patient.strip()
    if f.protocol:
        where.append("s.protocol = :protocol")
        params["protocol"] = f.protocol
    if f.status:
        where.append("s.status = :status")
        params["status"] = f.status
    if f.course_id is not None:
        where.append("s.course_id = :course_id")
        params["course_id"] = f.course_id
    if f.search and f.search.strip():
        where.append("p.clinic_id LIKE :search ESCAPE '\\'")
        params["search"] = like_pattern(f.search)
    return where, params


def find_sessions(db: sqlite_utils.Database, f: ReviewFilter | None = None,
                  config: FlagConfig | None = None) -> ReviewList:
    """The ids and flag masks of the sessions ``f`` selects, in its order (the queue by default).

    One statement: the filter and the flags on the session rows (read through
    the narrow idx_sessions_review where it covers them), then the order.
    """
    f = f or ReviewFilter()
    cfg = config or flag_config(db)
    if f.sort not in SORTS:
        raise ClinicError(f"Cannot sort by {f.sort!r}; choose one of {', '.join(SORTS)}.")
    where, params = _where(f, cfg)
    direction = "DESC" if f.descending else "ASC"
    if f.sort in ("problems", "flags"):
        # Problems first: heaviest first, then the longest waiting.
        key = "0"
        order = f"score {direction}, listed.started_at {'ASC' if f.descending else 'DESC'}, listed.id"
    else:
        key = SORTS[f.sort]
        order = (f"listed.sort_key {direction} NULLS LAST, listed.started_at {direction}, "
                 f"listed.id {direction}")
    # The patients table only when a filter or the order needs it.
    needs_patient = bool(f.patient or (f.search and f.search.strip()) or f.sort == "patient")
    inner = (f"SELECT s.id AS id, s.started_at AS started_at, {key} AS sort_key, "
             f"{mask_sql('s', 'fl')} AS mask FROM sessions s "
             + ("JOIN patients p ON p.id = s.patient_id " if needs_patient else "")
             + "LEFT JOIN flagged fl ON fl.session_id = s.id"
             + (" WHERE " + " AND ".join(where) if where else ""))
    flag_cond = flag_condition(f.flag, cfg)
    # MATERIALIZED: the mask is computed once per row, not once per use.
    sql = (f"WITH {flag_ctes()}, listed AS MATERIALIZED ({inner}) "
           f"SELECT listed.id, listed.mask, {score_sql(cfg, 'listed.mask')} AS score FROM listed "
           + (f"WHERE {flag_cond} " if flag_cond else "")
           + f"ORDER BY {order}")
    rows = db.execute(sql, params).fetchall()
    result = ReviewList(f, cfg, [r[0] for r in rows], [r[1] for r in rows])
    log.debug("review list %s: %d sessions", f, len(result))
    return result


PAGE_CACHE_KIB = 32 * 1024


def tune_connection(db: sqlite_utils.Database) -> None:
    """Give the review's connection a page cache that holds the session summaries (a few MB for a
    clinic-year), so moving between lists reads them from memory, not again from the file."""
    db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")


_ROW_COLUMNS = tuple(f.name for f in fields(QueueRow))[:16]
"""The QueueRow fields _ROW_SQL selects, in its column order (the rest are computed)."""

_ROW_SQL = """
SELECT s.id, s.started_at, p.clinic_id, p.initials, s.course_id, s.number_in_course, c.planned_sessions,
       s.technician, s.protocol, s.status, s.end_reason, s.pulses_planned, s.pulses_delivered,
       s.pulses_recorded, s.pulses_on_target, s.duration_s,
       (SELECT count(*) FROM addenda a WHERE a.session_id = s.id),
       (SELECT u.full_name FROM users u WHERE u.username = s.technician)
FROM sessions s JOIN patients p ON p.id = s.patient_id LEFT JOIN courses c ON c.id = s.course_id
WHERE s.id IN ({marks})"""


def signatures_by_session(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, list[SignatureLine]]:
    """The sign-offs (not addendum signatures) of these sessions, oldest first each."""
    out: dict[int, list[SignatureLine]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        marks = ",".join("?" for _ in chunk)
        for sid, meaning, name, at, comment in db.execute(
                f"SELECT session_id, meaning, signer_name, signed_at, comment FROM signatures "
                f"WHERE session_id IN ({marks}) AND addendum_id IS NULL ORDER BY id", chunk):
            out.setdefault(sid, []).append(SignatureLine(meaning, name, at, comment))
    return out


def rows_for(db: sqlite_utils.Database, listed: ReviewList, start: int, end: int) -> list[QueueRow]:
    """The rows ``start`` to ``end`` (exclusive) of a list, in its order."""
    ids = listed.ids[start:end]
    if not ids:
        return []
    masks = dict(zip(listed.ids[start:end], listed.masks[start:end], strict=True))
    fetched: dict[int, tuple[Any, ...]] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start:chunk_start + 500]
        sql = _ROW_SQL.format(marks=",".join("?" for _ in chunk))
        fetched.update({r[0]: r for r in db.execute(sql, chunk)})
    signatures = signatures_by_session(db, ids)
    rows = []
    for sid in ids:
        r = fetched.get(sid)
        if r is None:  # cannot happen (sessions are never deleted); skip rather than crash
            continue
        mask = masks[sid]
        rows.append(QueueRow(
            **dict(zip(_ROW_COLUMNS, r[:16], strict=True)),
            mask=mask, flags=tuple(rule.label for rule in listed.config.rules_in(mask)),
            signatures=tuple(signatures.get(sid, ())), addenda=int(r[16]), technician_name=r[17],
        ))
    return rows


def iter_rows(db: sqlite_utils.Database, listed: ReviewList, batch: int = 1000) -> Iterator[QueueRow]:
    """Every row of a list, in order, fetched a batch at a time."""
    for start in range(0, len(listed), batch):
        yield from rows_for(db, listed, start, start + batch)


def queue(db: sqlite_utils.Database, limit: int | None = None) -> list[QueueRow]:
    """The review queue as rows: unsigned ended sessions, problems first."""
    listed = find_sessions(db, ReviewFilter())
    return rows_for(db, listed, 0, len(listed) if limit is None else limit)


def choices(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """The values the filters offer: technicians and protocols that occur, session statuses, flags."""
    techs = [r[0] for r in db.execute(
        "SELECT DISTINCT technician FROM sessions WHERE technician IS NOT NULL "
        "ORDER BY technician COLLATE NOCASE")]
    protocols = [r[0] for r in db.execute(
        "SELECT DISTINCT protocol FROM sessions WHERE protocol IS NOT NULL ORDER BY protocol")]
    return {"technician": techs, "protocol": protocols, "status": list(SESSION_STATUSES),
            "review": list(REVIEW_STATES), "flag": list(CODES)}


CSV_COLUMNS = (
    "session", "started_local", "patient", "initials", "session_in_course", "planned_sessions", "technician",
    "protocol", "status", "end_reason", "pulses_planned", "pulses_delivered", "pulses_recorded",
    "pulses_on_target", "on_target_percent", "duration_s", "flags", "review", "signed_by", "signed_at",
    "meaning", "addenda", "cpt_code",
)


def write_csv(db: sqlite_utils.Database, listed: ReviewList, out: IO[str]) -> int:
    """The list as CSV, one row per session in the list's order, signatures included; returns rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for batch in _batches(iter_rows(db, listed), 1000):
        codes = cpt_codes(db, [row.id for row in batch])
        n += _write_rows(writer, batch, codes)
    return n


def _batches(rows: Iterator[QueueRow], size: int) -> Iterator[list[QueueRow]]:
    batch: list[QueueRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_rows(writer: Any, rows: list[QueueRow], codes: dict[int, CptCode | None]) -> int:
    n = 0
    for row in rows:
        last = row.signatures[-1] if row.signatures else None
        share = row.on_target_share
        writer.writerow([
            row.id, local_words(row.started_at), row.clinic_id, row.initials, _blank(row.number_in_course),
            _blank(row.planned_sessions), _blank(row.technician), _blank(row.protocol), row.status,
            _blank(row.end_reason), _blank(row.pulses_planned), row.pulses_delivered, row.pulses_recorded,
            _blank(row.pulses_on_target), "" if share is None else f"{100 * share:.1f}",
            _blank(row.duration_s), "; ".join(row.flags), "signed" if last else "not signed",
            last.name if last else "", last.signed_at if last else "", last.meaning if last else "",
            row.addenda, code.code if (code := codes.get(row.id)) is not None else "",
        ])
        n += 1
    return n


def _blank(value: Any) -> Any:
    return "" if value is None else value
