"""The handoff note as text: HTML (for print and PDF), plain text and Markdown, from Jinja2 templates.

The templates live in ``resources/`` and belong to the clinic, which may edit
its own copies (``TMS_CONSOLE_RESOURCES``). A clinic's edit can be wrong, and
a note is needed now: a broken template gives a :class:`NoteTemplateError`
naming the file and the line, and :func:`render_note` then makes the note
with the shipped template, carrying the error along so the screen or the
command line can show it. Templates run in Jinja2's sandbox with strict
undefined names, so a misspelt field is an error with a line number rather
than a silently empty box.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from console.note.content import NoteContent
from resources import SHIPPED, resource_path

log = logging.getLogger(__name__)

TEMPLATES = {"html": "note_template.html", "txt": "note_template.txt", "md": "note_template.md"}
CHART_URL = "note://phq9-chart"
"""Where the HTML template puts the PHQ-9 chart (<img src=...>); the PDF and preview supply the image."""


class NoteTemplateError(Exception):
    """A note template that cannot be used, with the file and line to fix."""

    def __init__(self, template: Path, line: int | None, detail: str) -> None:
        self.template = Path(template)
        self.line = line
        self.detail = detail
        where = f", line {line}" if line else ""
        super().__init__(f"The note template {self.template}{where} has an error: {detail}")


@dataclass(frozen=True)
class RenderedNote:
    text: str
    fmt: str
    template: Path  # the template that made ``text``
    problem: NoteTemplateError | None = None  # the clinic template's error, when the default was used


_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|"})


def markdown_escape(value: object) -> str:
    """Text from the record, safe inside Markdown: a patient's '*' stays a '*', not emphasis."""
    return str(value).translate(_MARKDOWN_SPECIAL)


def _environment(folder: Path, fmt: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=(fmt == "html"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_escape
    return env


def _line_in(exc: BaseException, path: Path) -> int | None:
    """The template line of a runtime error: Jinja2 maps template frames to their file and line."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    return line


def render_with(content: NoteContent, template: Path, fmt: str) -> str:
    """Render ``content`` with one template file; any problem is a :class:`NoteTemplateError`."""
    template = Path(template)
    env = _environment(template.parent, fmt)
    try:
        compiled = env.get_template(template.name)
    except jinja2.TemplateSyntaxError as exc:
        raise NoteTemplateError(template, exc.lineno, exc.message or str(exc)) from exc
    except jinja2.TemplateNotFound as exc:
        raise NoteTemplateError(template, None, f"the file {exc.name} is missing") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise NoteTemplateError(template, None, f"the file cannot be read ({exc})") from exc
    try:
        return compiled.render(note=content, chart_url=CHART_URL)
    except Exception as exc:  # anything a template can raise: undefined names, type errors, sandbox
        detail = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
        raise NoteTemplateError(template, _line_in(exc, template), detail or type(exc).__name__) from exc


def render_note(content: NoteContent, fmt: str) -> RenderedNote:
    """The note in ``fmt`` (html, txt, md) with the clinic's template, else with the shipped one."""
    if fmt not in TEMPLATES:
        raise ValueError(f"unknown note format {fmt!r}; use one of {', '.join(TEMPLATES)}")
    name = TEMPLATES[fmt]
    clinic = resource_path(name)
    try:
        return RenderedNote(render_with(content, clinic, fmt), fmt, clinic)
    except NoteTemplateError as problem:
        shipped = SHIPPED / name
        if clinic.resolve() == shipped.resolve():
            raise  # the shipped template itself is broken: a bug, not a clinic edit
        log.info("%s; the default template is used", problem)  # the caller shows it
        return RenderedNote(render_with(content, shipped, fmt), fmt, shipped, problem)
