"""``hub review`` and ``hub sign``: the review queue of every chair at the hub, and signing off there.

    python main.py hub review [--chair NAME|ID] [--site SITE] [--review unsigned|signed|all]
                              [--flag CODE] [--limit N] [--csv FILE] --user NAME [--db PATH]
    python main.py hub sign --session UUID --meaning reviewed|approved [--comment TEXT] --user NAME

The computer running them is a review station: ``--db`` is its own database, whose accounts say
who is asking (``--user``; the password from ``--password-file``, ``TMS_CONSOLE_PASSWORD`` or the
terminal, as every command: cli.auth) and whose flag settings the queue uses. ``hub review`` prints
the queue (problems first, as on a chair) or writes it as CSV; ``hub sign`` signs one session off at
the hub, the signer typing their password again; the chair that recorded it takes the sign-off back
(console.review.hub_signoff.take_back_signoffs). Both write an audit row on the station.

Bad input is one line on stderr and exit 1; a hub that cannot be reached, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cli.auth import NotAuthorised, add_user_options, asking_with_password, who_is_asking
from cli.common import add_db_option, open_existing, shown
from console.errors import ClinicError, PermissionDenied
from console.review.flags import CODES
from console.review.queue import ANY_FLAG, NO_FLAG, REVIEW_STATES

STATION_DB_HELP = ("this review station's own database: its accounts and settings "
                   "(default: the user data folder)")


def add_review_commands(sub: Any) -> None:
    """Register ``review`` and ``sign`` under ``hub`` (``sub``: the hub command's sub-parsers)."""
    from cli.hub_args import add_hub_option as _add_hub_option

    listing = sub.add_parser("review", help="the review queue of every chair at the hub, problems first")
    _add_hub_option(listing)
    add_db_option(listing, STATION_DB_HELP)
    add_user_options(listing)
    listing.add_argument("--chair", default=None, metavar="NAME|ID", help="only this chair's sessions")
    listing.add_argument("--site", default=None, help="only the sessions of the chairs at this site")
    listing.add_argument("--review", choices=REVIEW_STATES, default="unsigned",
                         help="unsigned (the queue, default), signed or all")
    listing.add_argument("--flag", choices=(*CODES, ANY_FLAG, NO_FLAG), default=None)
    listing.add_argument("--limit", type=int, default=50, metavar="N",
                         help="print at most N sessions (default 50)")
    listing.add_argument("--csv", type=Path, default=None, metavar="FILE",
                         help="write the whole list as CSV to FILE instead of printing it")
    listing.set_defaults(func=run_review)

    sign = sub.add_parser("sign", help="sign a session off at the hub (typing your password again)")
    _add_hub_option(sign)
    add_db_option(sign, STATION_DB_HELP)
    add_user_options(sign)
    sign.add_argument("--session", required=True, metavar="UUID", help="the session's id at the hub")
    sign.add_argument("--meaning", required=True, choices=("reviewed", "approved"))
    sign.add_argument("--comment", default=None)
    sign.add_argument("--origin", default=None, metavar="UUID",
                      help="this station's chair id (default: the one kept in its database)")
    sign.set_defaults(func=run_sign)


def _hub_connection(conninfo: str) -> Any:
    from db.hub.push import connect_hub, require_schema

    conn = connect_hub(conninfo, "check the address, that the server runs and that this computer "
                                 "may connect to it")
    try:
        require_schema(conn, conninfo)
    except BaseException:
        conn.close()
        raise
    return conn


def run_review(args: argparse.Namespace) -> int:
    from cli.hub_args import hub_of as _hub_of

    conninfo = _hub_of(args, "review")
    if conninfo is None:
        return 1
    db = open_existing(args, "hub review")
    if db is None:
        return 2
    try:
        return _review(args, db, conninfo)
    finally:
        db.close()


def _review(args: argparse.Namespace, db: Any, conninfo: str) -> int:
    import psycopg

    from console.audit import audit, write_transaction
    from console.review.audited_export import _write_audited
    from console.review.flags import flag_config
    from console.review.hub_queue import (
        HubReviewFilter,
        find_chair,
        hub_choices,
        hub_find_sessions,
        write_hub_csv,
    )
    from db.hub.push import HubError, describe

    try:
        user = who_is_asking(db, args, "hub review", "export_sessions" if args.csv else "review_sessions")
        conn = _hub_connection(conninfo)
    except (NotAuthorised, ClinicError, PermissionDenied) as exc:
        print(f"hub review: {shown(exc)}", file=sys.stderr)
        return 1
    except HubError as exc:
        print(f"hub review: {exc}", file=sys.stderr)
        return 2
    try:
        chair = None
        if args.chair:
            chair = find_chair(conn, args.chair)
            if chair is None:
                known = ", ".join(name or origin for origin, name, _ in hub_choices(conn).chairs) or "none"
                raise ClinicError(f"no chair {args.chair!r} has pushed to the hub {describe(conninfo)}; "
                                  f"give a chair's name or id (known: {known}).")
        listed = hub_find_sessions(conn, HubReviewFilter(review=args.review, chair=chair, site=args.site,
                                                         flag=args.flag), flag_config(db))
        wanted = {k: str(v) for k, v in vars(listed.filter).items() if v}
        if args.csv is None:
            with write_transaction(db):  # who read which list, before it is shown
                audit(db, user, "view_review_list", "review_list", None, None,
                      {"rows": len(listed), "filter": wanted, "via": f"hub {describe(conninfo)}"})
            _print(conn, listed, args.limit)
        else:
            target = args.csv.expanduser().absolute()
            n = _write_audited(db, target, lambda out: write_hub_csv(conn, listed, out),
                               lambda rows: audit(db, user, "export_review_list", "review_list", None, None,
                                                  {"rows": rows, "filter": wanted, "to": str(target),
                                                   "via": f"hub {describe(conninfo)}"}))
            print(f"{n} session(s) written to {args.csv}")
    except ClinicError as exc:
        print(f"hub review: {shown(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"hub review: cannot write {args.csv}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"hub review: the connection to the hub at {describe(conninfo)} was lost ({_first(exc)}).",
              file=sys.stderr)
        return 2
    finally:
        conn.close()
    return 0


def _print(conn: Any, listed: Any, limit: int) -> None:
    from console.review.hub_queue import hub_rows_for
    from console.review.queue import local_words

    rows = hub_rows_for(conn, listed, 0, max(0, limit))
    print(f"{len(listed)} session(s); showing {len(rows)}")
    for row in rows:
        pulses = str(row.pulses_delivered) + (f"/{row.pulses_planned}" if row.pulses_planned else "")
        share = row.on_target_share
        where = row.chair_words + (f" ({row.site})" if row.site else "")
        print(f"{row.uuid}  {shown(where):<20} {local_words(row.started_at)}  {shown(row.clinic_id):<10} "
              f"{shown(row.status):<11} {pulses:>9}  {'–' if share is None else f'{100 * share:5.1f} %'}  "
              f"{shown(row.review_words)}")
        if row.flags:
            print(f"{'':38}! {shown(', '.join(row.flags))}")


def run_sign(args: argparse.Namespace) -> int:
    from cli.common import db_path_of
    from cli.hub_args import hub_of as _hub_of
    from cli.hub_args import origin_of as _origin_of
    from db.hub.push import ChairDatabaseError

    conninfo = _hub_of(args, "sign")
    if conninfo is None:
        return 1
    try:
        station = _origin_of(args, db_path_of(args), "sign")
    except ChairDatabaseError as exc:
        print(f"hub sign: {exc}", file=sys.stderr)
        return 2
    if station is None:
        return 1
    db = open_existing(args, "hub sign")
    if db is None:
        return 2
    try:
        return _sign(args, db, conninfo, station)
    finally:
        db.close()


def _sign(args: argparse.Namespace, db: Any, conninfo: str, station: str) -> int:
    import psycopg

    from console.review.hub_signoff import sign_at_hub
    from db.hub.push import HubError, describe

    try:
        user, password = asking_with_password(db, args, "hub sign", "sign_session")
        conn = _hub_connection(conninfo)
    except (NotAuthorised, ClinicError, PermissionDenied) as exc:
        print(f"hub sign: {shown(exc)}", file=sys.stderr)
        return 1
    except HubError as exc:
        print(f"hub sign: {exc}", file=sys.stderr)
        return 2
    try:
        signoff = sign_at_hub(conn, db, user, args.session.strip(), password, args.meaning, args.comment,
                              station=station)
    except (ClinicError, PermissionDenied) as exc:
        print(f"hub sign: {shown(exc)}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"hub sign: the connection to the hub at {describe(conninfo)} was lost ({_first(exc)}); "
              "nothing was signed.", file=sys.stderr)
        return 2
    except psycopg.Error as exc:
        print(f"hub sign: the hub at {describe(conninfo)} refused the sign-off ({_first(exc)}); "
              "nothing was signed.", file=sys.stderr)
        return 1
    finally:
        conn.close()
    print(f"session {signoff.session_uuid} signed ({signoff.meaning}) at the hub by "
          f"{shown(signoff.signer_name)} (sign-off {signoff.uuid})")
    return 0


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
