"""``demo-data``: fill a database with demo patients, courses and recorded sessions.

    python main.py demo-data [--db PATH] [--speed X]

Sessions are recorded from the simulator through a real pty, as at the chair.
Refuses a database that already has anything in it, so a clinic's records are
never mixed with demo data.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cli.common import add_db_option
from console.paths import default_db_path


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo-data", help="fill a new database with demo patients and recorded sessions",
        description="Fill a NEW database with demo accounts, patients, courses and sessions "
                    "recorded from the simulated device.",
    )
    add_db_option(p, "the SQLite database file to create (default: demo.db in the user data folder)")
    p.add_argument("--speed", type=float, default=1000.0,
                   help="simulator speed factor while recording (default 1000)")
    p.set_defaults(func=run)


def demo_db_path() -> Path:
    return default_db_path().with_name("demo.db")


def run(args: argparse.Namespace) -> int:
    from console.demo import build_demo_database

    path = Path(getattr(args, "db", None) or demo_db_path())
    if path.exists() and path.stat().st_size > 0:
        print(f"demo-data: {path} already exists; demo data goes only into a new database "
              "(choose another --db or remove that file).", file=sys.stderr)
        return 2
    ids = build_demo_database(path, speed=args.speed, progress=lambda line: print(line, flush=True))
    print(f"DEMO {path} sessions {len(ids)}")
    return 0
