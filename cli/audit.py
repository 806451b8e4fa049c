"""``audit verify``: check the audit trail's hash chain; ``audit show``: print its last rows.

Exit status 0 when the chain holds ("ok <rows> rows, head <hash>"), 1 when a
row was changed, removed or inserted (the first broken row is named), 2 when
the database cannot be read at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from console.audit import history, verify
from console.paths import default_db_path
from db.database import DatabaseUnusable, connect


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help="check or show the audit trail")
    commands = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    check = commands.add_parser("verify", help="check that no audit row was changed, removed or inserted")
    check.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="the database file")
    check.set_defaults(func=run_verify)
    show = commands.add_parser("show", help="print the latest audit rows")
    show.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="the database file")
    show.add_argument("--last", type=int, default=20, metavar="N", help="how many rows (default 20)")
    show.set_defaults(func=run_show)


def _db_path(args: argparse.Namespace) -> Path:
    return getattr(args, "db", None) or default_db_path()


def run_verify(args: argparse.Namespace) -> int:
    path = _db_path(args)
    try:
        db = connect(path)
    except DatabaseUnusable as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        result = verify(db)
    finally:
        db.close()
    if result.ok:
        print(f"ok {result.rows} rows, head {result.head_hash or '-'}")
        return 0
    if result.first_bad_row is None:
        print(f"cannot check the audit log of {path}: {result.problem}", file=sys.stderr)
        return 2
    print(f"BROKEN at row {result.first_bad_row}: {result.problem}")
    return 1


def run_show(args: argparse.Namespace) -> int:
    path = _db_path(args)
    try:
        db = connect(path)
    except DatabaseUnusable as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        rows = history(db, limit=max(1, args.last))
    finally:
        db.close()
    for row in reversed(rows):
        change = {k: v for k, v in (("old", row["old"]), ("new", row["new"])) if v is not None}
        target = row["entity"] + (f" {row['entity_id']}" if row["entity_id"] is not None else "")
        print(f"{row['id']:>6}  {row['at']}  {row['actor']:<14} {row['action']:<16} {target}  "
              f"{json.dumps(change, ensure_ascii=False)}")
    return 0
