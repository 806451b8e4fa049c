"""One exchange of this chair with the clinic hub: what the background sync and ``hub sync`` run.

In this order, each step on its own connections and transactions, so a step cut off leaves the
ones before done and the next exchange goes on from there:

1. push: the ended sessions, safety records, reference edits and audit rows the hub lacks
   (db.hub.push): the clinical record leaves the chair first;
2. pull: accounts, patients, courses, motor thresholds, screenings other chairs sent, and the hub's
   decisions on edits made in two places (db.hub.pull);
3. take back: sign-offs made at a review station for this chair's sessions become the chair's own
   signatures (console.review.hub_signoff), now that the pull has brought the signers' accounts;
4. push again, only when step 3 took something: those signatures reach the hub as the chair's, and
   review stations see the session signed once, not twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from console.audit import audit
from console.review.hub_signoff import take_back
from db.database import connect
from db.hub.pull import PullResult, pull_reference
from db.hub.push import PushResult, chair_origin, connect_hub, open_chair, push_ended_sessions


class NoChairId(Exception):
    """The chair's file keeps no chair id (an old file not yet brought up to date by the program)."""


@dataclass
class Exchange:
    """What one exchange did."""

    origin: str
    push: PushResult
    pull: PullResult | None = None
    signoffs_taken: int = 0
    signoffs_waiting: int = 0
    signoffs_differing: list[str] = field(default_factory=list)

    @property
    def sessions_pushed(self) -> int:
        return len(self.push.pushed)


def origin_of(db_path: Path | str) -> str:
    with open_chair(db_path) as chair:
        origin = chair_origin(chair)
    if not origin:
        raise NoChairId("this chair's database has no chair id (run python main.py hub status)")
    return origin


def exchange(db_path: Path | str, conninfo: str) -> Exchange:
    """Push, pull, take back the hub's sign-offs, push those; raises HubError / ChairDatabaseError
    with one sentence when the hub or the chair's file cannot be used (the steps before stay)."""
    origin = origin_of(db_path)
    done = Exchange(origin, push_ended_sessions(db_path, conninfo, origin=origin))
    done.pull = pull_reference(db_path, conninfo, origin=origin, audit=audit)
    conn = connect_hub(conninfo)
    try:
        chair = connect(db_path)
        try:
            taken = take_back(conn, chair, origin)
        finally:
            chair.close()
    finally:
        conn.close()
    done.signoffs_taken, done.signoffs_waiting = taken.taken, taken.waiting
    done.signoffs_differing = list(taken.differing)
    if taken.taken:
        again = push_ended_sessions(db_path, conninfo, origin=origin)
        done.push.late_rows += again.late_rows
        done.push.audit_rows += again.audit_rows
    return done
