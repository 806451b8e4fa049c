"""Clinic resource files (``resources/*.json``): read once, checked against their schema.

A clinic edits these files by hand (``TMS_CONSOLE_RESOURCES`` points at its own
copies). A typo there used to surface as a KeyError deep inside a widget, in the
middle of a session; here every file is checked against
``resources/schemas/<name>.schema.json`` when it is read, and a problem is one
:class:`ResourceError` that names the file and the field, e.g.
``resources/checklist.json: items[2].question: 'question' is a required property``.

A file is parsed and checked once per version on disk (path, modification time
and size), so an edited file is read again but an unchanged one never is. Each
caller gets its own copy, so no caller can change what the next one reads.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from resources import SHIPPED, resource_path

SCHEMAS = SHIPPED / "schemas"
MAX_PROBLEMS_SHOWN = 5


class ResourceError(ValueError):
    """A clinic resource file cannot be used; the message names the file, the field and the fault.

    A ValueError, as a file that is not JSON always was, so a caller that already falls back on a bad
    clinic file (the note's guidance) keeps doing so."""


def shipped_names() -> list[str]:
    """Every JSON resource file the program ships (each has a schema)."""
    return sorted(p.name for p in SHIPPED.glob("*.json"))


def schema_path(name: str) -> Path:
    return SCHEMAS / f"{Path(name).stem}.schema.json"


def _shown(path: Path, name: str) -> str:
    """The file as a person finds it: ``resources/<name>`` when shipped, else the clinic's full path."""
    try:
        if path.resolve() == (SHIPPED / name).resolve():
            return f"resources/{name}"
    except OSError:
        pass
    return str(path)


@lru_cache(maxsize=32)
def _validator(name: str) -> Draft202012Validator:
    path = schema_path(name)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResourceError(f"resources/schemas/{path.name}: the schema of {name} cannot be read ({exc})") \
            from None
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def field_of(error: ValidationError) -> str:
    """``items[2].question``: where in the file the fault is (the missing field itself for 'required')."""
    parts: list[str | int] = list(error.absolute_path)
    required = error.validator_value
    if error.validator == "required" and isinstance(error.instance, dict) and isinstance(required, list):
        missing = [key for key in required if key not in error.instance]
        if missing:
            parts.append(missing[0])
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the whole file)"


def problems(data: Any, name: str) -> list[str]:
    """Every fault of ``data`` against the schema of ``name``, as "field: what is wrong", in file order."""
    errors = sorted(_validator(name).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{field_of(e)}: {e.message}" for e in errors]


@lru_cache(maxsize=64)
def _checked(path_text: str, _mtime_ns: int, _size: int, name: str) -> Any:
    path = Path(path_text)
    shown = _shown(path, name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResourceError(f"{shown}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ResourceError(f"{shown}: is not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ResourceError(f"{shown}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    found = problems(data, name)
    if found:
        lines = [f"{shown}: {p}" for p in found[:MAX_PROBLEMS_SHOWN]]
        if len(found) > MAX_PROBLEMS_SHOWN:
            lines.append(f"{shown}: ... and {len(found) - MAX_PROBLEMS_SHOWN} more")
        raise ResourceError("\n".join(lines))
    return data


def load(name: str) -> Any:
    """The clinic's ``name`` (its copy, else the shipped one), checked; :class:`ResourceError` when it
    cannot be used."""
    path = resource_path(name)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ResourceError(f"{_shown(path, name)}: cannot be read ({exc.strerror or exc})") from None
    return copy.deepcopy(_checked(str(path), stat.st_mtime_ns, stat.st_size, name))


def validate_all() -> None:
    """Read and check every resource file now (at start-up): the first unusable one raises."""
    for name in shipped_names():
        load(name)


def clear_cache() -> None:
    """Forget what was read (tests that edit a file within one clock tick)."""
    _checked.cache_clear()
