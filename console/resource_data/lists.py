"""Typed access to the clinic's resource files for the screens (lists, presets, the style sheet).

Widgets call these instead of reading ``resources/*.json`` themselves, so each
file is read once, checked against its schema, and a field missing from a
clinic's copy is a clear :class:`~console.resource_data.loader.ResourceError`
(or the documented default below), never a KeyError inside a widget.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from console.resource_data.loader import load
from resources import resource_path


class ChecklistQuestion(TypedDict):
    id: str
    question: str
    note_on: list[str]
    """The answers ("yes", "no") that need a note; none when the clinic gave none."""


class SideEffectChoice(TypedDict):
    kind: str
    label: str


class TargetingMethod(TypedDict):
    name: str
    needs_pose: NotRequired[bool]


class CourseOptions(TypedDict):
    indications: list[str]
    targeting_methods: list[TargetingMethod]
    close_reasons: list[str]


def checklist_items() -> list[ChecklistQuestion]:
    """The clinic's pre-session checklist, in order."""
    return [
        {"id": i["id"], "question": i["question"], "note_on": list(i.get("note_on", []))}
        for i in load("checklist.json")["items"]
    ]


def _session_list(key: str, fallback: list[str] | None = None) -> list[str]:
    """A list of session_lists.json; a list the clinic left out is ``fallback`` (or empty)."""
    return [str(x) for x in load("session_lists.json").get(key, [])] or list(fallback or [])


def pause_reasons() -> list[str]:
    return _session_list("pause_reasons")


def stop_reasons() -> list[str]:
    return _session_list("stop_reasons")


def not_started_reasons() -> list[str]:
    """Why a session was not started; "Other" when the clinic gives none, so a reason can be typed."""
    return _session_list("not_started_reasons", ["Other"])


def early_start_reasons() -> list[str]:
    """Why a session starts before the schedule allows; "Other" when the clinic gives none."""
    return _session_list("early_start_reasons", ["Other"])


def override_reasons() -> list[str]:
    return _session_list("override_reasons")


def moods() -> list[str]:
    return _session_list("moods")


def side_effect_choices() -> list[SideEffectChoice]:
    """The quick side-effect buttons at the chair, in the clinic's order."""
    return [{"kind": s["kind"], "label": s["label"]} for s in load("session_lists.json")["side_effects"]]


def course_options() -> CourseOptions:
    """Choices offered when a course is opened or closed."""
    data = load("course_options.json")
    return {"indications": list(data["indications"]), "targeting_methods": list(data["targeting_methods"]),
            "close_reasons": list(data["close_reasons"])}


def style_sheet() -> str | None:
    """The clinic's Qt style sheet text (``style.qss``), or None when it cannot be read (Qt's default
    look is used then: a style sheet is not worth stopping a session for)."""
    try:
        return resource_path("style.qss").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
