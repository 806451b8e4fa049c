"""The hub commands' shared arguments: the hub's address, the chair's file and the chair's id.

One module for ``hub ...`` and ``audit verify --hub`` and every command registered under ``hub``
(cli.hub_cmd, cli.hub_review_cmd, cli.hub_pull_cmd), so they take and check them alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from cli.common import db_path_of

HUB_ENV = "TMS_HUB"


def add_hub_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", default=None, metavar="URL",
                        help=f"the hub, postgresql://user@host:port/database (default: ${HUB_ENV})")


def hub_of(args: argparse.Namespace, command: str) -> str | None:
    conninfo = args.hub or os.environ.get(HUB_ENV)
    if not conninfo:
        print(f"hub {command}: no hub given; use --hub postgresql://user@host:port/database "
              f"or set {HUB_ENV}.", file=sys.stderr)
    return conninfo


def origin_of(args: argparse.Namespace, path: Path, command: str) -> str | None:
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


def run_with_chair(args: argparse.Namespace, command: str) -> tuple[str, Path, str] | int:
    from db.hub.push import ChairDatabaseError

    conninfo = hub_of(args, command)
    if conninfo is None:
        return 1
    path = db_path_of(args)
    try:
        origin = origin_of(args, path, command)
    except ChairDatabaseError as exc:
        print(f"hub {command}: {exc}", file=sys.stderr)
        return 2
    if origin is None:
        return 1
    return conninfo, path, origin


T = TypeVar("T")


def call_with_chair(args: argparse.Namespace, command: str,
                    call: Callable[[str, Path, str], T]) -> tuple[T, str] | int:
    """``call(hub address, chair file, chair id)`` and the hub address; or the exit status after one
    line on stderr (1: the arguments, 2: the hub or the chair's file could not be used)."""
    from db.hub.push import ChairDatabaseError, HubError

    found = run_with_chair(args, command)
    if isinstance(found, int):
        return found
    conninfo, path, origin = found
    try:
        return call(conninfo, path, origin), conninfo
    except (HubError, ChairDatabaseError) as exc:
        print(f"hub {command}: {exc}", file=sys.stderr)
        return 2
