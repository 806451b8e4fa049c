"""``audit verify``: check the audit trail's hash chain; ``audit show``: print its last rows.

Exit status 0 when the chain holds ("ok <rows> rows, head <hash>"), 1 when a
row was changed, removed or inserted (the first broken row is named), 2 when
the database cannot be read at all.
"""

from __future__ import annotations

import argparse
import json
import os
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
    check.add_argument("--hub", nargs="?", const="", default=None, metavar="URL",
                       help="check every chair's chain at the clinic hub instead (URL default: $TMS_HUB); "
                            "this chair's own chain is compared with the hub's copy of it")
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
    if args.hub is not None:
        return run_verify_hub(args)
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


def run_verify_hub(args: argparse.Namespace) -> int:
    """Each chair's chain at the hub, one line per chair; then this chair's against the hub's copy."""
    from cli.hub_args import HUB_ENV
    from console.audit_hub import verify_hub
    from db.hub.push import HubError, connect_hub, require_schema

    conninfo = args.hub or os.environ.get(HUB_ENV)
    if not conninfo:
        print(f"audit verify: no hub given; use --hub postgresql://user@host:port/database or set {HUB_ENV}.",
              file=sys.stderr)
        return 2
    try:
        conn = connect_hub(conninfo, advice="nothing was checked")
        try:
            require_schema(conn, conninfo)
            chains = verify_hub(conn)
            own = _own_chain(args, conn)
        finally:
            conn.close()
    except HubError as exc:
        print(exc, file=sys.stderr)
        return 2
    broken = 0
    for chain in chains:
        who = f"chair {chain.name} ({chain.origin})" if chain.name else f"chair {chain.origin}"
        r = chain.result
        if r.ok:
            print(f"ok {who}: {r.rows} rows, head {r.head_hash or '-'}")
        else:
            broken += 1
            print(f"BROKEN {who} at row {r.first_bad_row}: {r.problem}")
    if not chains:
        print("the hub holds no audit rows yet (no chair has pushed)")
    if own:
        broken += 1
        print(f"BROKEN this chair against the hub: {own}")
    return 1 if broken else 0


def _own_chain(args: argparse.Namespace, conn: Any) -> str | None:
    """Why this chair's file and the hub's copy of its chain differ (None: they agree, or there is
    no chair file here to compare)."""
    from console.audit_hub import matches_chair
    from db.hub.push import chair_origin, open_chair

    path = db_path_of(args)
    if not path.is_file():
        return None
    with open_chair(path) as raw:
        origin = chair_origin(raw)
    if origin is None:
        return None
    db = _connect(args)
    if db is None:
        return None
    try:
        return matches_chair(conn, db, origin)
    finally:
        db.close()
