"""``users``: accounts from the command line, for setting up a chair and for getting back in.

- ``users create-admin``: the first admin account of a new database (like the
  first-start dialog, for a chair set up over ssh);
- ``users create --role ROLE``: another account (technician, supervisor,
  physician or admin), created by an admin who types their own password;
- ``users list``: every account, its role and whether it is disabled or locked;
- ``users change-password --user NAME``: change your own password (needed
  first, before any other command, after an admin created the account or
  reset it);
- ``users reset-password NAME``: a temporary password, to be changed at the
  next login; the way back in when the only admin forgot theirs. It needs
  write access to the database file (which already gives everything), and
  the audit log records the operating-system user who ran it.

Passwords are asked twice without echo, or read from one line of standard
input with ``--password-stdin`` (for scripts); never from the command line,
where other users could read them in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

from cli.auth import PASSWORD_ENV, NotAuthorised, add_user_options, read_password
from cli.common import add_db_option, confirmed_admin, db_path_of, shown
from console.errors import ClinicError
from console.people.admin import create_user, reset_password_from_command_line
from console.people.login import change_password
from console.people.user import ROLES, get_user, needs_first_admin
from db.database import DatabaseUnusable, open_database


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="create the first admin, list accounts, reset a password")
    commands = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    create = commands.add_parser("create-admin", help="create the first admin account of a new database")
    create.add_argument("--username", required=True)
    create.add_argument("--full-name", required=True)
    add = commands.add_parser("create", help="create an account (an admin types their password)")
    add.add_argument("--username", required=True)
    add.add_argument("--full-name", required=True)
    add.add_argument("--role", required=True, choices=ROLES,
                     help="a supervisor is the lead technician; a physician signs the clinical decisions")
    add.add_argument("--admin", required=True, help="the user name of the admin creating the account")
    show = commands.add_parser("list", help="list every account")
    reset = commands.add_parser("reset-password", help="give an account a temporary password")
    reset.add_argument("username")
    change = commands.add_parser(
        "change-password", help="change your own password (needed first after an admin set it)",
        description="Change your own password. The current one is read as for every command "
                    f"(--password-file, else {PASSWORD_ENV}, else a prompt); the new one from "
                    "--new-password-file, else a prompt asked twice. Never on the command line.")
    add_user_options(change)
    change.add_argument("--new-password-file", type=Path, default=None, metavar="FILE",
                        help="a file whose first line is the new password; keep it readable by you only")
    for sub, func in ((create, run_create_admin), (add, run_create), (show, run_list),
                      (reset, run_reset_password), (change, run_change_password)):
        add_db_option(sub)
        sub.set_defaults(func=func)
    for sub in (create, add, reset):
        sub.add_argument("--password-stdin", action="store_true",
                         help="read the password from one line of standard input (for create: the "
                              "admin's password, then the new account's, one line each)")


def _open(args: argparse.Namespace):
    return open_database(db_path_of(args))


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise ClinicError("The two passwords are not the same.")
    return first


def _run(args: argparse.Namespace, action) -> int:
    try:
        db = _open(args)
    except DatabaseUnusable as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        return action(db)
    except ClinicError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        db.close()


def run_create_admin(args: argparse.Namespace) -> int:
    def action(db) -> int:
        if not needs_first_admin(db):
            raise ClinicError("This database already has an admin account; that admin creates the others.")
        user = create_user(db, None, args.username, args.full_name, "admin", _password(args))
        print(f"created admin account {user.username} ({user.full_name})")
        return 0
    return _run(args, action)


def run_create(args: argparse.Namespace) -> int:
    """Another account, of any role, created by an admin who confirms their own password."""
    def action(db) -> int:
        admin = confirmed_admin(db, args.admin, password_stdin=args.password_stdin, purpose="create account")
        if not args.password_stdin:
            print("The new account's password:")
        user = create_user(db, admin, args.username, args.full_name, args.role, _password(args),
                           must_change_password=True)
        print(f"created {user.role} account {user.username} ({user.full_name}); "
              "the password must be changed at the first login")
        return 0
    return _run(args, action)


def run_list(args: argparse.Namespace) -> int:
    def action(db) -> int:
        now = datetime.now(UTC).isoformat()
        rows = db.execute("SELECT username, full_name, role, active, locked_until, last_login_at "
                          "FROM users ORDER BY username").fetchall()
        for username, full_name, role, active, locked_until, last_login in rows:
            state = "active" if active else "disabled"
            if locked_until and locked_until > now:
                state += ", locked"
            print(f"{shown(username):<20} {shown(role):<11} {state:<16} {shown(full_name)}  "
                  f"(last login {shown(last_login or 'never')})")
        if not rows:
            print("no accounts yet: the first start asks for the admin account (or: users create-admin)")
        return 0
    return _run(args, action)


def run_reset_password(args: argparse.Namespace) -> int:
    def action(db) -> int:
        reset_password_from_command_line(db, args.username, _password(args), getpass.getuser())
        print(f"{args.username}: temporary password set; it must be changed at the next login")
        return 0
    return _run(args, action)


def run_change_password(args: argparse.Namespace) -> int:
    """A person changes their own password: the old one checked as at log-in (wrong ones count
    towards the lockout), the new one against the clinic's password rules."""
    def action(db) -> int:
        if not args.user:
            raise ClinicError("give --user NAME: whose password is changed")
        try:
            current = read_password(args, args.user)
        except NotAuthorised as exc:
            raise ClinicError(str(exc)) from exc
        user = get_user(db, args.user)
        if user is None:
            raise ClinicError("Wrong user name or password.")
        if args.new_password_file is not None:
            try:
                with open(args.new_password_file, encoding="utf-8") as f:
                    new = f.readline().rstrip("\r\n")
            except OSError as exc:
                raise ClinicError(f"cannot read the new password file {args.new_password_file}: "
                                  f"{exc.strerror or exc}") from exc
        else:
            new = getpass.getpass("New password: ")
            if getpass.getpass("Repeat the new password: ") != new:
                raise ClinicError("The two passwords are not the same.")
        change_password(db, user, current, new)
        print(f"{args.user}: password changed")
        return 0
    return _run(args, action)
