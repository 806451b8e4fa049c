"""``export``: one session as JSON (session-export.schema.json) or CSV (one row per pulse).

    python main.py export SESSION_ID --format json|csv [--db PATH] [--out FILE]

SESSION_ID is the number ``record`` printed, or the session's UUID. Without
``--out`` the export goes to stdout. A session that does not exist or a
database that cannot be used is one line on stderr and a non-zero exit.

Every export says who is asking (``--user``, cli.auth) and writes an audit row
naming them (console.review.audited_export); an export whose audit row cannot
be written (a read-only database, say) is not made.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import Any

from cli.auth import NotAuthorised, add_user_options, who_is_asking
from cli.common import add_db_option, open_existing, shown
from console.review.audited_export import FORMATS, ExportError, export_session


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "export", help="export one session as JSON or CSV",
        description="Export one session: JSON as session-export.schema.json defines, or CSV with "
                    "one row per pulse.",
    )
    p.add_argument("session", metavar="SESSION_ID", help="the session's number or UUID")
    p.add_argument("--format", choices=FORMATS, default="json", help="json (default) or csv")
    add_db_option(p)
    add_user_options(p)
    p.add_argument("--out", type=Path, default=None, metavar="FILE", help="write here instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    db = open_existing(args, "export")
    if db is None:
        return 2
    try:
        user = who_is_asking(db, args, "export", "export_sessions")
        if args.out is None:
            export_session(db, args.session, args.format, by=user, out=sys.stdout)
        else:
            export_session(db, args.session, args.format, by=user, path=args.out)
    except NotAuthorised as exc:
        print(f"export: {shown(exc)}", file=sys.stderr)
        return 1
    except ExportError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"export: cannot write {args.out or 'standard output'}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"export: not exported (no file, no audit row): {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    return 0
