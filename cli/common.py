"""What every headless command shares: the ``--db`` option and opening the database.

``--db`` may stand before the sub-command (``main.py --db x.db export 3``) or after it
(``main.py export 3 --db x.db``); the sub-command's option is SUPPRESSed when absent so it
never hides the top-level one.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import unicodedata
from pathlib import Path
from typing import Any

import sqlite_utils

from console.paths import default_db_path
from db.database import DatabaseUnusable, open_database
from db.recovery import mark_interrupted_sessions
from db.session_lock import is_session_live

log = logging.getLogger(__name__)

# Characters a terminal acts on or that reorder what follows; shown escaped, never printed raw.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_HIDDEN = frozenset(("Cc", "Cs", "Zl", "Zp"))

DB_HELP = "the SQLite database file (default: the user data folder)"


def add_db_option(parser: Any, help_text: str = DB_HELP) -> None:
    parser.add_argument("--db", type=Path, default=argparse.SUPPRESS, metavar="PATH", help=help_text)


def db_path_of(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "db", None) or default_db_path())


def open_existing(args: argparse.Namespace, command: str, *,
                  mark_sessions: bool = True) -> sqlite_utils.Database | None:
    """The command's database, or None after one clear line on stderr (missing or unusable).

    ``mark_sessions=False`` for a command that takes the file as it is (``backup``): it marks no
    abandoned session interrupted."""
    path = db_path_of(args)
    if not path.exists():
        print(f"{command}: the database {path} does not exist; check --db.", file=sys.stderr)
        return None
    try:
        db = open_database(path, create=False)
    except DatabaseUnusable as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return None
    if mark_sessions:
        mark_abandoned(db, path, command)
    return db


def mark_abandoned(db: sqlite_utils.Database, path: Path, command: str) -> list[int]:
    """Mark the sessions a crash left in ``recording`` as interrupted, as the window does at start.

    A command that reads sessions right after a crash (``export``, ``note``, ``review``) would
    otherwise show a dead recording as still going. The session lock tells the two apart: a
    session recorded by a live process (its lock held) is left as it is. Returns the ids marked.
    When the file cannot be written (a read-only copy), each dead session is named on stderr
    instead, so the reader still learns it is not being recorded.
    """
    try:
        marked = mark_interrupted_sessions(db, path)
    except (sqlite3.Error, OSError) as exc:
        log.info("%s: interrupted sessions not marked: %s", command, exc)  # the log file; stderr below
        for session_id in _dead_recordings(db, path):
            print(f"{command}: session {session_id} shows as recording, but no program is recording it "
                  "(it stopped unexpectedly); this database cannot be changed, so it is not marked "
                  "interrupted.", file=sys.stderr)
        return []
    for session_id in marked:
        print(f"{command}: session {session_id} was left recording when its program stopped "
              "unexpectedly; it is now marked interrupted (everything it recorded is kept).",
              file=sys.stderr)
    return marked


def _dead_recordings(db: sqlite_utils.Database, path: Path) -> list[int]:
    """Sessions in ``recording`` whose lock nobody holds (read only: nothing is changed)."""
    try:
        ids = [row[0] for row in db.execute("SELECT id FROM sessions WHERE status = 'recording' ORDER BY id")]
        return [i for i in ids if not is_session_live(path, i)]
    except (sqlite3.Error, OSError):
        return []


def confirmed_admin(db: sqlite_utils.Database, username: str, *, password_stdin: bool, purpose: str) -> Any:
    """The admin named on the command line, once they have typed their own password (read from the
    first line of stdin with ``--password-stdin``, else asked at the terminal); a wrong name or
    password is one message that does not say which was wrong."""
    import getpass

    from console.errors import ClinicError
    from console.people.login import confirm_password
    from console.people.user import get_user

    admin = get_user(db, username)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password of {username}: ")
    if admin is None:
        raise ClinicError("Wrong user name or password.")
    return confirm_password(db, admin, password, purpose=purpose)


def shown(text: object) -> str:
    """``text`` safe to print on a terminal: control characters escaped (``\\x1b``, ``\\u202e``).

    Clinic ids, names and notes are typed by people and stored as typed; printed raw,
    an escape sequence in one would clear or rewrite the supervisor's terminal, and a
    bidirectional override would reorder the line. A byte that was not UTF-8 on the
    command line (decoded by Python as a lone surrogate) is shown as the byte, ``\\xff``.
    """
    s = str(text)
    if s.isprintable():
        return s
    out = []
    for ch in s:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte itself
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in _BIDI or unicodedata.category(ch) in _HIDDEN:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def undecodable_argument(argv: list[str]) -> str | None:
    """One line naming the first argument that was not UTF-8 text, or None when all are.

    Python decodes such bytes to lone surrogates, which fail later and far away (in
    SQLite, the log file, the audit row) with a traceback; the person gets this line instead.
    """
    for index, arg in enumerate(argv):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            after = f" (after {shown(argv[index - 1])})" if index and argv[index - 1].startswith("-") else ""
            return (f"the argument '{shown(arg)}'{after} is not valid UTF-8 text; type it again, or rename "
                    "a file or folder whose name has such bytes")
    return None
