"""``hub pull`` and ``hub conflicts``: take into this chair what other chairs sent to the hub, and show
what the hub did not take as a chair sent it.

``hub pull`` brings accounts, patients, courses, motor thresholds, screenings and their clearances
(db.hub.pull), and the clinic's settings (db.hub.settings_sync; never a chair's own, such as its name or
hub address). A row that cannot go into this chair as it is (a clinic id or user name another row
has here) is held back and listed, never forced. An edit made on this chair that lost to one made
elsewhere first is kept at the hub; this chair then shows the hub's values and says so.

``hub conflicts`` lists what the hub kept for an admin: losing edits (of a clinic setting too) with both
values, and patients (accounts) made on two chairs with one clinic id (user name), both kept.

Registered under ``hub`` by :func:`add_pull_commands` (cli.hub_cmd.register); its arguments are cli.hub_args'.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from db.hub.pull import Conflict

_WORDS = {"clinic_id": "clinic id", "date_of_birth": "date of birth", "percent_mt": "% MT",
          "planned_sessions": "planned sessions", "close_reason": "close reason", "closed_at": "closed at",
          "full_name": "full name", "must_change_password": "must change password"}
_SECRET = "password_hash"


def add_pull_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``pull`` and ``conflicts`` to the ``hub`` command's actions."""
    from cli.common import add_db_option
    from cli.hub_args import add_hub_option

    pull = sub.add_parser("pull", help="take into this chair the accounts, patients, courses, MTs, "
                                       "screenings and clinic settings other chairs sent to the hub")
    add_hub_option(pull)
    add_db_option(pull)
    pull.add_argument("--origin", default=None, metavar="UUID",
                      help="this chair's id (default: the one kept in its database)")
    pull.set_defaults(func=run_pull)
    conflicts = sub.add_parser("conflicts", help="what the hub kept for an admin: losing edits, "
                                                 "the same clinic id or user name made on two chairs")
    add_hub_option(conflicts)
    conflicts.add_argument("--limit", type=int, default=200, help="show at most this many, newest first")
    conflicts.set_defaults(func=run_conflicts)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in counts.items() if n) or "nothing"


def run_pull(args: argparse.Namespace) -> int:
    from cli.hub_args import call_with_chair
    from console.audit import audit
    from db.hub.pull import pull_reference
    from db.hub.push import describe

    found = call_with_chair(args, "pull", lambda conninfo, path, origin: pull_reference(
        path, conninfo, origin=origin, audit=audit))
    if isinstance(found, int):
        return found
    result, conninfo = found
    print(f"pulled from {describe(conninfo)} in {result.seconds:.1f} s: new here {_counts(result.inserted)}; "
          f"brought up to the hub's values {_counts(result.updated)}; "
          f"{result.taken_at_hub} edit(s) made here taken by the hub")
    if result.lost:
        print(f"hub pull: NOTE: {len(result.lost)} edit(s) made on this chair lost to edits made elsewhere "
              "first; the hub keeps them for an admin (hub conflicts) and this chair now shows the hub's "
              "values.", file=sys.stderr)
    if result.held_back:
        print(f"hub pull: {len(result.held_back)} row(s) of the hub not taken here:", file=sys.stderr)
        for (table, reason), n in sorted(Counter((h.table, h.reason) for h in result.held_back).items()):
            print(f"  {n} of {table.replace('_', ' ')}: {reason}", file=sys.stderr)
    return 0


def _show(value: Any) -> str:
    return "(empty)" if value is None else repr(value)


def _lines(c: Conflict) -> list[str]:
    label_key = "clinic_id" if c.entity == "patient" else "username" if c.entity == "account" else None
    known = (c.winner or c.loser or {}).get(label_key) if label_key else None
    thing = "clinic setting" if c.entity == "setting" else c.entity  # a setting's uuid is its key
    head = (f"#{c.id} {c.at} {thing} {c.uuid}" + (f" ({_WORDS.get(label_key or '', label_key)} {known})"
                                                   if known else "")
            + f": {c.kind}, from chair {c.losing_chair or c.losing_origin}")
    if c.kind == "edit":
        loser, winner = c.loser or {}, c.winner or {}
        lines = [head]
        for key in winner:
            if loser.get(key) == winner.get(key):
                continue
            name = _WORDS.get(key, key.replace("_", " "))
            if key == _SECRET:
                lines.append("  password: differs (hashes not shown)")
            else:
                lines.append(f"  {name}: the hub kept {_show(winner.get(key))}; "
                             f"not taken: {_show(loser.get(key))}")
        return lines
    return [head, f"  another {c.entity} at the hub has it too: {c.other_uuid}; both are kept, neither "
                  "was changed"]


def run_conflicts(args: argparse.Namespace) -> int:
    from cli.hub_args import hub_of
    from db.hub.pull import list_conflicts
    from db.hub.push import HubError, describe

    conninfo = hub_of(args, "conflicts")
    if conninfo is None:
        return 1
    try:
        found = list_conflicts(conninfo, limit=max(1, args.limit))
    except HubError as exc:
        print(f"hub conflicts: {exc}", file=sys.stderr)
        return 2
    if not found:
        print(f"no conflicts at the hub {describe(conninfo)}")
        return 0
    print(f"{len(found)} conflict(s) at the hub {describe(conninfo)}, newest first:")
    for conflict in found:
        print("\n".join(_lines(conflict)))
    return 0
