"""Who may do what: checked in the domain layer, before anything is written.

Hiding a button is a courtesy; this module is the rule. Every domain
function that changes the record calls :func:`require` first, so a
technician who reaches the sign-off function by any path (a script, a bug,
a button someone forgot to hide) gets :class:`PermissionDenied` and nothing
is written. The table is fixed by the product (only a physician signs a
screening's review, only an admin manages accounts and clinic settings), so it
lives in code.
"""

from __future__ import annotations

import logging
import sqlite3

from console.errors import PermissionDenied
from console.people.user import ROLES, User, refresh

__all__ = ["ACTIONS", "PermissionDenied", "allowed", "require"]

log = logging.getLogger(__name__)

_CLINICAL = frozenset({"technician", "supervisor", "physician"})
_REVIEWERS = frozenset({"supervisor", "physician"})
_PHYSICIAN = frozenset({"physician"})
_ADMIN = frozenset({"admin"})
_EVERYONE = frozenset({"technician", "supervisor", "physician", "admin"})

# action -> (what it is, in words for the message, roles allowed). The one table of who may do
# what (issue 14, item 7): a supervisor is the lead technician (runs, reviews and signs the
# record of sessions, manages patients); a physician is the credentialed clinician who makes the
# clinical decisions: a physician alone signs the review of a screening "yes" (Rossi 2011: the
# treating physician's risk/benefit decision). Overriding a safety limit (or the intensity above
# the prescription) is a clinical decision too: a physician's alone (issue 14, items 1 and 7).
ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "record_session": ("record sessions", _CLINICAL),
    # Issue 8: patients and courses are managed by a supervisor, a physician or an admin.
    "manage_patients": ("manage patients and courses", frozenset({"supervisor", "physician", "admin"})),
    "record_screening": ("record safety screenings", _CLINICAL),
    "clear_screening": ("sign the physician's review of a safety screening", _PHYSICIAN),
    "review_hold": ("sign the physician's review that lifts a hold on a course", _PHYSICIAN),
    "sign_extra_session": ("sign for a session beyond the day's plan", _PHYSICIAN),  # issue 14, item 10
    "record_outcome": ("enter outcome measures", _CLINICAL),
    "add_addendum": ("add addenda", _CLINICAL),
    "print_note": ("print handoff notes", _CLINICAL),
    "view_records": ("view patient records", _EVERYONE),
    "review_sessions": ("review sessions", _REVIEWERS),
    "sign_session": ("sign sessions", _REVIEWERS),
    "override_safety": ("override safety checks", _PHYSICIAN),
    "export_sessions": ("export sessions", frozenset({"supervisor", "physician", "admin"})),
    "view_audit": ("view the audit log", frozenset({"supervisor", "physician", "admin"})),
    "manage_users": ("manage user accounts", _ADMIN),
    "edit_settings": ("change clinic settings", _ADMIN),
}


def _article(word: str) -> str:
    return "An" if word[:1].lower() in "aeiou" else "A"


def allowed(user: User | None, action: str) -> bool:
    """Whether ``user`` may do ``action`` (for showing or hiding a control)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}")
    return user is not None and user.active and user.role in ACTIONS[action][1]


def current(user: User) -> User:
    """The account as the database says it is now, when ``user`` was read from one.

    A User is a snapshot taken at log-in; an admin may demote or disable the account while its
    holder is still logged in, and that must count from the next action on (issue 15). The
    account is re-read from the database it came from; a User made in code (no database) or a
    connection that cannot be used here (closed, or owned by another thread) keeps the snapshot.
    """
    db = user.source
    if db is None:
        return user
    try:
        return refresh(db, user)
    except sqlite3.ProgrammingError:
        log.debug("account %s checked against its state at log-in (database not usable here)",
                  user.username)
        return user


def require(user: User | None, action: str) -> None:
    """Raise :class:`PermissionDenied` unless ``user`` may do ``action``.

    The account's role and active flag are read from the database at this moment
    (:func:`current`), not taken from the object its holder got at log-in.
    An unknown action is a programming error (ValueError), never a silent yes.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}")
    what, roles = ACTIONS[action]
    if user is None:
        raise PermissionDenied(f"Log in to {what}.")
    user = current(user)
    if not user.active:
        raise PermissionDenied(f"The account {user.username!r} is disabled; it cannot {what}.")
    if user.role not in roles:
        log.info("denied: %s (%s) tried to %s", user.username, user.role, action)
        raise PermissionDenied(f"{_article(user.role)} {user.role} cannot {what}: "
                               f"{who_may(action)} can.")


def roles_for(action: str) -> frozenset[str]:
    """The roles allowed to do ``action``."""
    return ACTIONS[action][1]


_ROLE_ORDER = ROLES


def who_may(action: str) -> str:
    """The roles allowed to do ``action``, in words for a message: "a technician or a supervisor".

    So a screen that cannot offer an action can still say who can (issue 20, item 17).
    """
    roles = [role for role in _ROLE_ORDER if role in roles_for(action)]
    words = [f"{_article(role).lower()} {role}" for role in roles]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
