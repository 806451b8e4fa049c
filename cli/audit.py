"""``audit verify``: check the audit trail's hash chain; ``audit show``: print its last rows.

Exit status 0 when the chain holds ("ok <rows> rows, head <hash>"), 1 when a
row was changed, removed or inserted (the first broken row is named), 2 when
the database cannot be read at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cli.common import add_db_option, db_path_of, shown
from console.audit import history, verify
from db.database import DatabaseUnusable, connect


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help="check or show the audit trail")
    commands = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    check = commands.add_parser("verify", help="check that no audit row was changed, removed or inserted")
    add_db_option(check)
    check.set_defaults(func=run_verify)
    show = commands.add_parser("show", help="print the latest audit rows")
    add_db_option(show)
    show.add_argument("--last", type=int, default=20, metavar="N", help="how many rows (default 20)")
    show.set_defaults(func=run_show)


def _connect(args: argparse.Namespace) -> Any:
    """The database as it is (no migration: checking must not change the file), or None
    after one line on stderr."""
    try:
        return connect(db_path_of(args))
    except DatabaseUnusable as exc:
        print(exc, file=sys.stderr)
        return None


def run_verify(args: argparse.Namespace) -> int:
    path = db_path_of(args)
    db = _connect(args)
    if db is None:
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
    db = _connect(args)
    if db is None:
        return 2
    try:
        rows = history(db, limit=max(1, args.last))
    finally:
        db.close()
    for row in reversed(rows):
        change = {k: v for k, v in (("old", row["old"]), ("new", row["new"])) if v is not None}
        target = row["entity"] + (f" {row['entity_id']}" if row["entity_id"] is not None else "")
        print(f"{row['id']:>6}  {shown(row['at'])}  {shown(row['actor']):<14} {shown(row['action']):<16} "
              f"{shown(target)}  {shown(json.dumps(change, ensure_ascii=False))}")
    return 0
