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
import sys

from cli.common import add_db_option
from cli.hub_args import add_hub_option, call_with_chair, hub_of


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("hub", help="the clinic's PostgreSQL hub: set it up, push, pull, review, "
                                                  "list conflicts")
    actions = parser.add_subparsers(dest="hub_action", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="create or update the hub's tables (safe to run again)")
    add_hub_option(init)
    init.set_defaults(func=run_init)
    for name, func, text in (("status", run_status, "how many of this chair's sessions the hub holds, "
                                                    "how many wait"),
                             ("push", run_push, "send this chair's ended sessions the hub lacks"),
                             ("sync", run_sync, "push, pull, take back sign-offs made at a review "
                                                "station: what the chair does every minute")):
        p = actions.add_parser(name, help=text)
        add_hub_option(p)
        add_db_option(p)
        p.add_argument("--origin", default=None, metavar="UUID",
                       help="this chair's id (default: the one kept in its database)")
        p.set_defaults(func=func)
    from cli.hub_pull_cmd import add_pull_commands  # reference data back from the hub, conflicts
    from cli.hub_review_cmd import add_review_commands  # the review station's list and sign-off

    add_pull_commands(actions)
    add_review_commands(actions)


def run_init(args: argparse.Namespace) -> int:
    import psycopg

    from db.hub import schema
    from db.hub.push import HubError, connect_hub, describe

    conninfo = hub_of(args, "init")
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


def run_status(args: argparse.Namespace) -> int:
    from db.hub.push import describe, hub_status

    found = call_with_chair(args, "status", lambda conninfo, path, origin: hub_status(path, conninfo,
                                                                                      origin=origin))
    if isinstance(found, int):
        return found
    status, conninfo = found
    print(f"chair {status.origin}: {status.at_hub} session(s) at the hub {describe(conninfo)}, "
          f"{status.waiting} waiting to be pushed, {status.still_recording} still recording; "
          f"last push {status.last_push_at or 'never'}; {status.safety_waiting} safety record(s) waiting")
    clock = clock_words(status.clock_offset_s)
    if clock:
        print(f"hub status: WARNING: {clock}", file=sys.stderr)
    if status.held_for_another_chair:
        print(f"hub status: WARNING: {status.held_for_another_chair} of the waiting sessions are at the hub "
              "from another chair id (a copy of this database pushed under another --origin?).",
              file=sys.stderr)
    return 0


def run_push(args: argparse.Namespace) -> int:
    from db.hub.push import describe, push_ended_sessions

    found = call_with_chair(args, "push", lambda conninfo, path, origin: push_ended_sessions(
        path, conninfo, origin=origin))
    if isinstance(found, int):
        return found
    result, conninfo = found
    print(f"pushed {len(result.pushed)} session(s) ({result.pulses} pulses) to {describe(conninfo)} "
          f"in {result.seconds:.1f} s; {result.already_at_hub} were there already, "
          f"{result.still_recording} still recording; {result.late_rows} later entries, "
          f"{result.audit_rows} audit rows, {sum(result.safety_rows.values())} safety records")
    if result.reference.get("lost"):
        print(f"hub push: NOTE: {result.reference['lost']} edit(s) made here lost to edits made elsewhere "
              "first; the hub keeps them (hub conflicts) and the next pull shows the hub's values.",
              file=sys.stderr)
    if result.held_for_another_chair:
        print(f"hub push: WARNING: {len(result.held_for_another_chair)} session(s) of this database are at "
              "the hub from another chair id (a copy of this database pushed under another --origin?); "
              f"they were left as they are, first {result.held_for_another_chair[0]}.", file=sys.stderr)
    return 0



def run_sync(args: argparse.Namespace) -> int:
    """One exchange, as the chair's window makes every minute (console.sync.hub_exchange)."""
    from console.sync.hub_exchange import exchange
    from db.hub.push import describe

    found = call_with_chair(args, "sync", lambda conninfo, path, _origin: exchange(path, conninfo))
    if isinstance(found, int):
        return found
    done, conninfo = found
    pulled = (sum(done.pull.inserted.values()) + sum(done.pull.updated.values())) if done.pull else 0
    print(f"synced with {describe(conninfo)}: pushed {done.sessions_pushed} session(s), took {pulled} "
          f"reference row(s) from the hub, {done.signoffs_taken} sign-off(s) made at a review station"
          + (f"; {done.signoffs_waiting} sign-off(s) wait for their signer's account" if done.signoffs_waiting
             else ""))
    if done.signoffs_differing:
        print(f"hub sync: NOTE: {len(done.signoffs_differing)} sign-off(s) made at a review station were not "
              "taken: this chair's record of the session changed after the hub's copy was signed; "
              "it stays unsigned here until someone signs what it holds.", file=sys.stderr)
    return 0


CLOCK_TOLERANCE_S = 120.0
"""A chair clock further than this from the hub's is said (a session's times are as the chair's clock
said: they are never corrected, so a reviewer must know)."""


def clock_words(offset_s: float | None) -> str | None:
    """'this chair's clock is 3 h 05 min behind the hub's ...', or None when it is close enough."""
    if offset_s is None or abs(offset_s) <= CLOCK_TOLERANCE_S:
        return None
    minutes = round(abs(offset_s) / 60)
    amount = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    side = "behind" if offset_s > 0 else "ahead of"
    return (f"this chair's clock was {amount} {side} the hub's at its last push; the times in its "
            "records are as its clock said: set the clock right (the records keep the times they have).")
