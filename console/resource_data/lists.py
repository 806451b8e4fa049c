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
    stop_on: NotRequired[list[str]]
    """The answers that stop the session at the checklist (``block_on`` and ``physician_on``)."""
    stop_says: NotRequired[str]
    """Why it stops and what to do, in the clinic's words."""
    physician_on: NotRequired[list[str]]
    """The answers that hold the course until a physician's signed review (part of ``stop_on``)."""


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
        {"id": i["id"], "question": i["question"], "note_on": list(i.get("note_on", [])),
         "stop_on": list(dict.fromkeys([*i.get("block_on", []), *i.get("physician_on", [])])),
         "stop_says": str(i.get("stop_says", "")), "physician_on": list(i.get("physician_on", []))}
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


DEVICE_FAULT_PREFIX = "device fault "
"""How a pause caused by a device fault was worded before issue 14, item 10 (raw codes follow)."""


def device_fault_words() -> dict[str, str]:
    """Plain words for the device's fault codes (note_guidance.json ``plain_words.faults``), one
    table for the chair, the note and the review."""
    plain = load("note_guidance.json").get("plain_words", {})
    faults = plain.get("faults", {}) if isinstance(plain, dict) else {}
    return {str(code): str(words) for code, words in faults.items()} if isinstance(faults, dict) else {}


def fault_pause_reason(codes: list[str]) -> str:
    """Why a device fault paused the session, in plain words, never a raw code like COIL_OVERTEMP
    (an unknown code is "a device fault"; the code itself stays in the fault event)."""
    table = device_fault_words()
    said = list(dict.fromkeys(table.get(code, "a device fault") for code in codes)) or ["a device fault"]
    return "The device stopped: " + "; ".join(said)


def plain_pause_reason(reason: str | None) -> str | None:
    """A recorded pause reason as people read it: an older record's "device fault COIL_OVERTEMP"
    becomes :func:`fault_pause_reason`'s words; anything else is returned as it is."""
    if reason and reason.lower().startswith(DEVICE_FAULT_PREFIX):
        codes = [c.strip() for c in reason[len(DEVICE_FAULT_PREFIX):].split(",") if c.strip()]
        return fault_pause_reason(codes)
    return reason
