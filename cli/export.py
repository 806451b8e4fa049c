"""``export``: one session as JSON (session-export.schema.json) or CSV (one row per pulse).

    python main.py export SESSION_ID --format json|csv [--db PATH] [--out FILE]

SESSION_ID is the number ``record`` printed, or the session's UUID. Without
``--out`` the export goes to stdout. A session that does not exist or a
database that cannot be used is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from cli.common import add_db_option, open_existing
from console.review.export import ExportError, find_session, write_csv, write_json


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "export", help="export one session as JSON or CSV",
        description="Export one session: JSON as session-export.schema.json defines, or CSV with "
                    "one row per pulse.",
    )
    p.add_argument("session", metavar="SESSION_ID", help="the session's number or UUID")
    p.add_argument("--format", choices=("json", "csv"), default="json", help="json (default) or csv")
    add_db_option(p)
    p.add_argument("--out", type=Path, default=None, metavar="FILE", help="write here instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    db = open_existing(args, "export")
    if db is None:
        return 2
    try:
        find_session(db, args.session)
        if args.out is None:
            _write(db, args, sys.stdout)
        else:
            _write_file(db, args, args.out)
    except ExportError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"export: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    return 0


def _write(db: Any, args: argparse.Namespace, out: IO[str]) -> None:
    if args.format == "json":
        write_json(db, args.session, out)
    else:
        write_csv(db, args.session, out)


def _write_file(db: Any, args: argparse.Namespace, path: Path) -> None:
    """Write beside the target and rename, so a half-written export never takes its name."""
    path = path.expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            _write(db, args, out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
