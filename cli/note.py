"""``note``: the therapist handoff note of one session, as a PDF, plain text or Markdown file.

    python main.py note SESSION_ID --out note.pdf|note.txt|note.md [--page a4|letter] [--db PATH]

The format follows the file's ending (``--format`` overrides it; ``--out -``
writes text or Markdown to stdout, for a pipe into a secure message). A
clinic template with a mistake does not stop the note: it is made with the
default template, and one line on stderr names the file and line to fix.
Anything that prevents a note (no such session, an unusable database, a
place the file cannot be written, a clinic phone or supervising physician not
yet set in the clinic settings) exits 2 with one line on stderr. It says who is
asking (``--user``, cli.auth: refused is exit 1) and writes an audit row naming
them before the note is written.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from cli.auth import NotAuthorised, add_user_options, who_is_asking
from cli.common import add_db_option, db_path_of, mark_abandoned, shown
from console.audit import audit, write_transaction
from console.note.assembly import NoteUnavailable, build_note
from console.note.content import NoteContent
from console.note.render import NoteTemplateError, render_note
from db.database import DatabaseUnusable, open_database
from devices.private_file import open_private

log = logging.getLogger(__name__)

FORMATS = {".pdf": "pdf", ".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md"}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "note", help="write the therapist handoff note of a session (PDF, text or Markdown)",
        description="Write the one-page handoff note of a session for the afternoon therapist.",
    )
    p.add_argument("session_id", type=int, metavar="SESSION_ID", help="the session's id")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="where to write it: note.pdf, note.txt or note.md ('-' for stdout, text formats)")
    p.add_argument("--format", choices=("pdf", "txt", "md"), default=None,
                   help="the format (default: from the file's ending)")
    p.add_argument("--page", choices=("a4", "letter"), default=None,
                   help="paper size of a PDF (default: from the computer's locale)")
    add_db_option(p)
    add_user_options(p)
    p.set_defaults(func=run)


class _Failed(Exception):
    """One line for stderr."""


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.out == "-":
        return "txt"
    fmt = FORMATS.get(Path(args.out).suffix.lower())
    if fmt is None:
        raise _Failed(f"cannot tell the format of {args.out!r}: end the name with .pdf, .txt or .md, "
                      "or give --format")
    return fmt


def run(args: argparse.Namespace) -> int:
    try:
        return _note(args)
    except _Failed as exc:
        print(f"note: {shown(exc)}", file=sys.stderr)
        return 2
    except NotAuthorised as exc:
        print(f"note: {shown(exc)}", file=sys.stderr)
        return 1


def _note(args: argparse.Namespace) -> int:
    fmt = _format(args)
    if fmt == "pdf" and args.out == "-":
        raise _Failed("a PDF needs a file name (--out note.pdf)")
    db_path = db_path_of(args)
    try:
        db = open_database(db_path, create=False)
    except DatabaseUnusable as exc:
        raise _Failed(str(exc)) from exc
    try:
        user = who_is_asking(db, args, "note", "print_note")
        mark_abandoned(db, db_path, "note")  # a crashed recording is not shown as still going
        content = build_note(db, args.session_id)
        with write_transaction(db):  # who took which patient's note, and where
            audit(db, user, "write_note", "session", args.session_id, None,
                  {"format": fmt, "via": "command line",
                   "to": "standard output" if args.out == "-" else str(Path(args.out).absolute())})
    except NoteUnavailable as exc:
        raise _Failed(str(exc)) from exc
    finally:
        db.close()
    if content.print_refusal:  # the clinic phone or the supervising physician is not set
        raise _Failed(content.print_refusal)
    for gap in content.problems:
        print(f"note: {shown(gap)}", file=sys.stderr)  # stored text: escaped

    if fmt == "pdf":
        pages, problem = _write_pdf(content, Path(args.out), args.page)
        what = f"{pages} page{'s' if pages != 1 else ''}"
    else:
        rendered = render_note(content, fmt)
        problem = rendered.problem
        _write_text(rendered.text, args.out)
        what = fmt
    if problem is not None:
        print(f"note: {problem}; the default template was used", file=sys.stderr)
    if args.out != "-":
        print(f"Handoff note of session {args.session_id} written to {args.out} ({what}).")
    return 0


def _write_text(text: str, out: str) -> None:
    if out == "-":
        sys.stdout.write(text)
        return
    try:
        with open_private(out, "w", encoding="utf-8") as f:  # a patient's note: owner only
            f.write(text)
    except OSError as exc:
        raise _Failed(f"cannot write {out}: {exc.strerror or exc}") from exc


def _write_pdf(content: NoteContent, out: Path, page: str | None) -> tuple[int, NoteTemplateError | None]:
    if not out.parent.is_dir():
        raise _Failed(f"cannot write {out}: the folder {out.parent} does not exist")
    # A PDF needs Qt's fonts and painter but no window: the offscreen platform works anywhere.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from console.ui.note.note_pdf import default_page, write_pdf_headless

    try:
        printed = write_pdf_headless(content, out, page or default_page())
    except OSError as exc:
        raise _Failed(f"cannot write {out}: {exc}") from exc
    return printed.pages, printed.problem
