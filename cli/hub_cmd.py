"""``hub init|status|push``: set up the clinic's PostgreSQL hub and push this chair's ended sessions to it.

The hub's address is given with ``--hub postgresql://user@host:port/database``
(or the ``TMS_HUB`` environment variable); a password is best kept out of the
command line, in ``~/.pgpass`` or ``PGPASSWORD``, which the PostgreSQL client
reads itself. The chair's id (``origin``) is read from the chair's database
(table ``chair_identity``) or given with ``--origin``.

A hub that cannot be reached is one line on stderr and exit 2; the chair goes
on recording, and the next push sends whatever waits.

The PostgreSQL client (psycopg) is imported only when a hub command runs, so a
chair without a hub starts no slower for it.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path

from cli.common import add_db_option, db_path_of

HUB_ENV = "TMS_HUB"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("hub", help="the clinic's PostgreSQL hub: set it up, push ended sessions")
    actions = parser.add_subparsers(dest="hub_action", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="create or update the hub's tables (safe to run again)")
    _add_hub_option(init)
    init.set_defaults(func=run_init)
    for name, func, text in (("status", run_status, "how many of this chair's sessions the hub holds, "
                                                    "how many wait"),
                             ("push", run_push, "send this chair's ended sessions the hub lacks")):
        p = actions.add_parser(name, help=text)
        _add_hub_option(p)
        add_db_option(p)
        p.add_argument("--origin", default=None, metavar="UUID",
                       help="this chair's id (default: the one kept in its database)")
        p.set_defaults(func=func)


def _add_hub_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", default=None, metavar="URL",
                        help=f"the hub, postgresql://user@host:port/database (default: ${HUB_ENV})")


def _hub_of(args: argparse.Namespace, command: str) -> str | None:
    conninfo = args.hub or os.environ.get(HUB_ENV)
    if not conninfo:
        print(f"hub {command}: no hub given; use --hub postgresql://user@host:port/database "
              f"or set {HUB_ENV}.", file=sys.stderr)
    return conninfo


def _origin_of(args: argparse.Namespace, path: Path, command: str) -> str | None:
    from db.hub.push import chair_origin, open_chair

    given = args.origin
    if given is None:
        with open_chair(path) as chair:
            given = chair_origin(chair)
        if given is None:
            print(f"hub {command}: the database {path} keeps no chair id yet; give this chair's id "
                  "with --origin UUID (the same one every time).", file=sys.stderr)
            return None
    try:
        return str(uuid.UUID(given))
    except ValueError:
        print(f"hub {command}: {given!r} is not a chair id (a UUID such as "
              "3f2b8c1e-0d4a-4c8e-9a1b-2c3d4e5f6a7b).", file=sys.stderr)
        return None


def run_init(args: argparse.Namespace) -> int:
    import psycopg

    from db.hub import schema
    from db.hub.push import HubError, connect_hub, describe

    conninfo = _hub_of(args, "init")
    if conninfo is None:
        return 1
    try:
        conn = connect_hub(conninfo, "check the address, that the server runs and that this "
                           "computer may connect to it")
    except HubError as exc:
        print(f"hub init: {exc}", file=sys.stderr)
        return 2
    try:
        applied = schema.init(conn)
    except psycopg.Error as exc:
        print(f"hub init: the hub at {describe(conninfo)} refused its tables ({exc}).", file=sys.stderr)
        return 1
    finally:
        conn.close()
    if applied:
        print(f"hub {describe(conninfo)} set up: schema version {applied[-1]}")
    else:
        print(f"hub {describe(conninfo)} already up to date: schema version {schema.SCHEMA_VERSION}")
    return 0


def _run_with_chair(args: argparse.Namespace, command: str) -> tuple[str, Path, str] | int:
    from db.hub.push import ChairDatabaseError

    conninfo = _hub_of(args, command)
    if conninfo is None:
        return 1
    path = db_path_of(args)
    try:
        origin = _origin_of(args, path, command)
    except ChairDatabaseError as exc:
        print(f"hub {command}: {exc}", file=sys.stderr)
        return 2
    if origin is None:
        return 1
    return conninfo, path, origin


def run_status(args: argparse.Namespace) -> int:
    from db.hub.push import ChairDatabaseError, HubError, describe, hub_status

    found = _run_with_chair(args, "status")
    if isinstance(found, int):
        return found
    conninfo, path, origin = found
    try:
        status = hub_status(path, conninfo, origin=origin)
    except (HubError, ChairDatabaseError) as exc:
        print(f"hub status: {exc}", file=sys.stderr)
        return 2
    print(f"chair {origin}: {status.at_hub} session(s) at the hub {describe(conninfo)}, "
          f"{status.waiting} waiting to be pushed, {status.still_recording} still recording; "
          f"last push {status.last_push_at or 'never'}; {status.safety_waiting} safety record(s) waiting")
    if status.held_for_another_chair:
        print(f"hub status: WARNING: {status.held_for_another_chair} of the waiting sessions are at the hub "
              "from another chair id (a copy of this database pushed under another --origin?).",
              file=sys.stderr)
    return 0


def run_push(args: argparse.Namespace) -> int:
    from db.hub.push import ChairDatabaseError, HubError, describe, push_ended_sessions

    found = _run_with_chair(args, "push")
    if isinstance(found, int):
        return found
    conninfo, path, origin = found
    try:
        result = push_ended_sessions(path, conninfo, origin=origin)
    except (HubError, ChairDatabaseError) as exc:
        print(f"hub push: {exc}", file=sys.stderr)
        return 2
    print(f"pushed {len(result.pushed)} session(s) ({result.pulses} pulses) to {describe(conninfo)} "
          f"in {result.seconds:.1f} s; {result.already_at_hub} were there already, "
          f"{result.still_recording} still recording; {result.late_rows} later entries, "
          f"{result.audit_rows} audit rows, {sum(result.safety_rows.values())} safety records")
    if result.held_for_another_chair:
        print(f"hub push: WARNING: {len(result.held_for_another_chair)} session(s) of this database are at "
              "the hub from another chair id (a copy of this database pushed under another --origin?); "
              f"they were left as they are, first {result.held_for_another_chair[0]}.", file=sys.stderr)
    return 0
