"""What every headless command shares: the ``--db`` option and opening the database.

``--db`` may stand before the sub-command (``main.py --db x.db export 3``) or after it
(``main.py export 3 --db x.db``); the sub-command's option is SUPPRESSed when absent so it
never hides the top-level one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import sqlite_utils

from console.paths import default_db_path
from db.database import DatabaseUnusable, open_database

DB_HELP = "the SQLite database file (default: the user data folder)"


def add_db_option(parser: Any, help_text: str = DB_HELP) -> None:
    parser.add_argument("--db", type=Path, default=argparse.SUPPRESS, metavar="PATH", help=help_text)


def db_path_of(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "db", None) or default_db_path())


def open_existing(args: argparse.Namespace, command: str) -> sqlite_utils.Database | None:
    """The command's database, or None after one clear line on stderr (missing or unusable)."""
    path = db_path_of(args)
    if not path.exists():
        print(f"{command}: the database {path} does not exist; check --db.", file=sys.stderr)
        return None
    try:
        return open_database(path, create=False)
    except DatabaseUnusable as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return None
