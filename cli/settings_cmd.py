"""``settings``: the clinic settings from the command line (list them; an admin changes one).

    python main.py settings list [--db PATH]
    python main.py settings set KEY VALUE --admin NAME [--password-stdin] [--db PATH]

The handoff note is not printed until the clinic phone and the supervising
physician are set (issue 14, item 9); the program had no place to set them,
so this is that place, for a chair set up over ssh as for the first start. A
change is made by an admin who types their own password (never on the
command line), validated against resources/settings_defaults.json and
audited, exactly as console.clinic.settings.change_setting does it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from cli.common import add_db_option, confirmed_admin, db_path_of, shown
from console.clinic.settings import all_settings, change_setting, definitions, is_secret
from console.errors import ClinicError
from db.database import DatabaseUnusable, open_database

_TRUE = ("on", "yes", "true", "1")
_FALSE = ("off", "no", "false", "0")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("settings", help="list the clinic settings, or change one (an admin)")
    commands = parser.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    show = commands.add_parser("list", help="every clinic setting, its value and what it means")
    change = commands.add_parser("set", help="change one clinic setting (an admin types their password)")
    change.add_argument("key", metavar="KEY", help="the setting's name, as `settings list` shows it")
    change.add_argument("value", metavar="VALUE", nargs="?", default=None,
                        help="the new value (on/off for a yes-or-no setting); a secret one (a device's "
                             "unlock code) is never given here: it is asked, or read after the password "
                             "with --password-stdin")
    change.add_argument("--admin", required=True, help="the user name of the admin making the change")
    change.add_argument("--password-stdin", action="store_true",
                        help="read the admin's password from one line of standard input (for scripts)")
    for sub, func in ((show, run_list), (change, run_set)):
        add_db_option(sub)
        sub.set_defaults(func=func)


def typed_value(key: str, text: str) -> Any:
    """The command line's text as the setting's type (validated later by the domain)."""
    try:
        kind = definitions()[key]["type"]
    except KeyError:
        raise ClinicError(f"There is no clinic setting called {key!r} (see: settings list).") from None
    if kind == "boolean":
        word = text.strip().lower()
        if word not in _TRUE + _FALSE:
            raise ClinicError(f"{key}: give on or off.")
        return word in _TRUE
    if kind in ("number", "integer"):
        try:
            number = float(text)
        except ValueError:
            raise ClinicError(f"{key}: enter a number.") from None
        return int(number) if kind == "integer" and number.is_integer() else number
    return text


def _run(args: argparse.Namespace, action) -> int:
    try:
        db = open_database(db_path_of(args))
    except DatabaseUnusable as exc:
        print(f"settings: {exc}", file=sys.stderr)
        return 2
    try:
        return int(action(db))
    except ClinicError as exc:
        print(f"settings: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()


def run_list(args: argparse.Namespace) -> int:
    def action(db) -> int:
        specs = definitions()
        for key, value in all_settings(db).items():
            if specs[key].get("admin_editable") is False:
                continue
            shown_value = ("on" if value else "off") if isinstance(value, bool) else value
            if is_secret(key):
                shown_value = "(set)" if value else ""
            print(f"{key:<24} {shown(str(shown_value)) or '(not set)':<24} {specs[key].get('label', '')}")
        return 0
    return _run(args, action)


def run_set(args: argparse.Namespace) -> int:
    def action(db) -> int:
        secret = args.key in definitions() and is_secret(args.key)
        if secret and args.value is not None:
            raise ClinicError(f"{args.key} is a secret: it is not given on the command line, where other "
                              "accounts can read it; leave VALUE out and type it when asked")
        if not secret and args.value is None:
            raise ClinicError(f"give the new value of {args.key}")
        if definitions().get(args.key, {}).get("admin_editable") is False:
            raise ClinicError(f"{args.key} is not changed by hand.")
        admin = confirmed_admin(db, args.admin, password_stdin=args.password_stdin, purpose="change setting")
        if secret:
            text = (sys.stdin.readline().rstrip("\r\n") if args.password_stdin
                    else getpass.getpass(f"{args.key}: "))
        else:
            text = args.value
        value = typed_value(args.key, text)
        change_setting(db, admin, args.key, value)
        print(f"{args.key} set by {admin.username}.")
        return 0
    return _run(args, action)
