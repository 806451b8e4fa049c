"""``review``: the supervisor's review lists without a window.

    python main.py review list [filters] [--limit N] [--db PATH]
    python main.py review export-csv --out FILE [filters] [--db PATH]

Filters: ``--review unsigned|signed|all`` (default unsigned: the queue),
``--from``/``--to`` (local dates, inclusive), ``--technician``, ``--patient``
(clinic id), ``--protocol``, ``--status``, ``--flag`` (a flag code, ``any`` or
``none``), ``--search`` (part of a clinic id), ``--sort KEY`` and ``--asc``.
``list`` prints one line per session, problems first, with the flags' reasons
under each flagged one; ``export-csv`` writes the filtered list as CSV (with
the sign-off of each session). Bad input is one line on stderr and a
non-zero exit. Both say who is asking (``--user``, cli.auth); ``list`` writes an
audit row (who read which list), ``export-csv`` the export's row.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from cli.auth import NotAuthorised, add_user_options, who_is_asking
from cli.common import add_db_option, open_existing, shown
from console.audit import audit, write_transaction
from console.errors import ClinicError
from console.review.audited_export import export_review_list
from console.review.flags import CODES, flag_reasons
from console.review.queue import (
    ANY_FLAG,
    NO_FLAG,
    REVIEW_STATES,
    SESSION_STATUSES,
    SORTS,
    ReviewFilter,
    find_sessions,
    local_words,
    rows_for,
)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-01") from None


def _filters(p: argparse.ArgumentParser) -> None:
    add_db_option(p)
    add_user_options(p)
    p.add_argument("--review", choices=REVIEW_STATES, default="unsigned",
                   help="unsigned (the queue, default), signed or all")
    p.add_argument("--from", dest="date_from", type=_day, default=None, metavar="DATE",
                   help="sessions started on or after this local day")
    p.add_argument("--to", dest="date_to", type=_day, default=None, metavar="DATE",
                   help="sessions started on or before this local day")
    p.add_argument("--technician", default=None)
    p.add_argument("--patient", default=None, metavar="CLINIC_ID")
    p.add_argument("--protocol", default=None, metavar="NAME", help="the protocol's full name")
    p.add_argument("--status", choices=SESSION_STATUSES, default=None)
    p.add_argument("--flag", choices=(*CODES, ANY_FLAG, NO_FLAG), default=None)
    p.add_argument("--search", default=None, metavar="TEXT", help="part of a clinic id")
    p.add_argument("--sort", choices=tuple(SORTS), default="problems", help="default: problems first")
    p.add_argument("--asc", action="store_true", help="sort ascending")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("review", help="list sessions to review, export the list as CSV",
                              description="The supervisor's review lists, without a window.")
    sub = p.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="print the list (the unsigned queue by default), problems first")
    _filters(listing)
    listing.add_argument("--limit", type=int, default=50, metavar="N", help="at most N sessions (default 50)")
    listing.set_defaults(func=run)
    export = sub.add_parser("export-csv", help="write the filtered list as CSV")
    _filters(export)
    export.add_argument("--out", type=Path, required=True, metavar="FILE")
    export.set_defaults(func=run)


def _filter(args: argparse.Namespace) -> ReviewFilter:
    return ReviewFilter(
        review=args.review, date_from=args.date_from, date_to=args.date_to, technician=args.technician,
        patient=args.patient, protocol=args.protocol, status=args.status, flag=args.flag, search=args.search,
        sort=args.sort, descending=not args.asc,
    )


def run(args: argparse.Namespace) -> int:
    db = open_existing(args, "review")
    if db is None:
        return 2
    try:
        user = who_is_asking(db, args, "review", "review_sessions")
        listed = find_sessions(db, _filter(args))
        if args.review_command == "list":
            wanted = {k: str(v) for k, v in vars(listed.filter).items() if v}
            with write_transaction(db):  # who read which list, before it is shown
                audit(db, user, "view_review_list", "review_list", None, None,
                      {"rows": len(listed), "filter": wanted, "via": "command line"})
            _print(db, listed, args.limit)
        else:
            n = export_review_list(db, listed, args.out, by=user)
            print(f"{n} session(s) written to {args.out}")
    except (ClinicError, NotAuthorised) as exc:
        print(f"review: {shown(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"review: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    return 0


def _print(db: Any, listed: Any, limit: int) -> None:
    rows = rows_for(db, listed, 0, max(0, limit))
    print(f"{len(listed)} session(s); showing {len(rows)}")
    for row in rows:
        pulses = str(row.pulses_delivered) + (f"/{row.pulses_planned}" if row.pulses_planned else "")
        share = row.on_target_share
        # Stored text is printed escaped: a clinic id with an escape sequence must not drive the terminal.
        print(f"{row.id:>7}  {local_words(row.started_at)}  {shown(row.clinic_id):<10} "
              f"{shown(row.status):<11} {pulses:>9}  {'–' if share is None else f'{100 * share:5.1f} %'}  "
              f"{shown(row.review_words)}")
        if row.mask:
            for flag in flag_reasons(db, row.id, listed.config):
                print(f"         ! {shown(flag.label)}: {shown(flag.reason)}")
