"""Who is asking: the clinic user behind a headless command that reads or writes patient data.

Every such command takes ``--user NAME``; the password comes from ``--password-file FILE`` (its
first line), else from the environment variable :data:`PASSWORD_ENV`, else from a prompt at the
terminal — never from the command line, where other accounts could read it in the process list.
It is checked by the same login as the window (wrong passwords count towards the lockout), and
the account's role must allow the command's action (console.people.permissions), checked against
the database now.

On a database the demo command made (and only there) a missing ``--user`` acts as the demo account
of the role the command needs, said on stderr: the demo's passwords are public anyway. On a real
database ``--user`` is required.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from console.errors import ClinicError, PermissionDenied
from console.people.login import authenticate
from console.people.permissions import require, roles_for
from console.people.user import ROLES, User, get_user, is_demo_database

PASSWORD_ENV = "TMS_CONSOLE_PASSWORD"

USER_HELP = (f"your clinic user name; the password is read from --password-file, else from the "
             f"environment variable {PASSWORD_ENV}, else asked at the terminal (never given on the "
             "command line). On a demo database it may be left out: the demo account of the needed "
             "role is used")


class NotAuthorised(Exception):
    """The command may not run for this person: one line for stderr, exit 1."""


def add_user_options(parser: argparse.ArgumentParser) -> None:
    """``--user`` and ``--password-file``, described in the command's --help."""
    parser.add_argument("--user", default=None, metavar="NAME", help=USER_HELP)
    parser.add_argument("--password-file", type=Path, default=None, metavar="FILE",
                        help=f"a file whose first line is the password of --user (instead of {PASSWORD_ENV} "
                             "or the prompt); keep it readable by you only")


def read_password(args: argparse.Namespace, username: str) -> str:
    """The password of ``username``: the file, the environment variable, or the terminal."""
    path = getattr(args, "password_file", None)
    if path is not None:
        try:
            with open(path, encoding="utf-8") as f:
                return f.readline().rstrip("\r\n")
        except OSError as exc:
            raise NotAuthorised(f"cannot read the password file {path}: {exc.strerror or exc}") from exc
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env is not None:
        return from_env
    if not sys.stdin.isatty():
        raise NotAuthorised(f"no password for {username}: give --password-file FILE or set {PASSWORD_ENV}")
    return getpass.getpass(f"Password of {username}: ")


def _demo_account(db: sqlite_utils.Database, action: str) -> User | None:
    from console.people.admin import DEMO_ACCOUNTS

    allowed = roles_for(action)
    for role in ROLES:  # the least-privileged role that may do it
        if role in allowed:
            for username, _full, demo_role, _password in DEMO_ACCOUNTS:
                if demo_role == role:
                    user = get_user(db, username)
                    if user is not None and user.active:
                        return user
    return None


def who_is_asking(db: sqlite_utils.Database, args: argparse.Namespace, command: str, action: str) -> User:
    """The authenticated clinic user allowed to do ``action``, or :class:`NotAuthorised`."""
    return asking_with_password(db, args, command, action)[0]


def asking_with_password(db: sqlite_utils.Database, args: argparse.Namespace, command: str,
                         action: str) -> tuple[User, str]:
    """As :func:`who_is_asking`, with the password they gave: an act that carries their name (a
    signature) checks it again through its own domain function."""
    username = getattr(args, "user", None)
    if not username:
        if is_demo_database(db):
            user = _demo_account(db, action)
            if user is not None:
                print(f"{command}: no --user given; this is a demo database, so the demo account "
                      f"{user.username!r} ({user.role}) is used.", file=sys.stderr)
                require(user, action)
                return user, _demo_password(user.username)
        raise NotAuthorised("give --user NAME: this database holds patient records, and every command "
                            "that reads or changes them says who is asking")
    password = read_password(args, username)
    try:
        user = authenticate(db, username, password)
        if user.must_change_password:  # as the window asks first thing after log-in
            raise NotAuthorised(f"the password of {username} was set by an admin and must be changed "
                                f"before anything else: python main.py users change-password --user "
                                f"{username}")
        require(user, action)
    except (ClinicError, PermissionDenied) as exc:
        raise NotAuthorised(str(exc)) from exc
    return user, password


def _demo_password(username: str) -> str:
    from console.people.admin import DEMO_ACCOUNTS

    return next(p for name, _full, _role, p in DEMO_ACCOUNTS if name == username)


def run_as(args: argparse.Namespace, command: str, action: str,
           body: Callable[[sqlite_utils.Database, User, str], int | None]) -> int:
    """Open the database, find who is asking (allowed to do ``action``), run ``body``.

    Every refusal (no such database, not authorised, a rule of the record) is one line on
    stderr and a non-zero exit: 2 for a database that cannot be used, 1 otherwise.
    """
    from cli.common import open_existing, shown

    db = open_existing(args, command)
    if db is None:
        return 2
    try:
        user, password = asking_with_password(db, args, command, action)
        return int(body(db, user, password) or 0)
    except (NotAuthorised, ClinicError, PermissionDenied) as exc:
        print(f"{command}: {shown(exc)}", file=sys.stderr)
        return 1
    finally:
        db.close()
