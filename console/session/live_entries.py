"""What a live session's record holds beside the device's own stream: the
technician's notes and side effects, and every command the console sent to
the device with its outcome. Here are their rules and their words; the
recorder writes them in order with the device's events.
"""

from __future__ import annotations

from typing import Any

from console.session.recording_terms import InvalidAction

SIDE_EFFECT_RATING = (0, 10)
COMMAND_OUTCOMES = ("sent", "acknowledged", "refused", "unsupported", "timed_out", "failed")
"""A command is ``sent`` then answered: ``acknowledged`` (ACK), ``refused`` (NAK, with the device's
reason), ``timed_out`` (no answer), ``failed`` (the link broke); ``unsupported`` when the device
does not take commands of this kind (nothing is sent)."""


def note_detail(text: str) -> dict[str, Any]:
    text = (text or "").strip()
    if not text:
        raise InvalidAction("a note needs some text")
    return {"text": text}


def side_effect_detail(kind: str, rating: int, note: str | None) -> tuple[str, dict[str, Any]]:
    """The side effect's kind and detail, rated 0 (none) to 10 (worst); InvalidAction otherwise."""
    kind = (kind or "").strip()
    if not kind:
        raise InvalidAction("a side effect needs a kind (e.g. headache)")
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise InvalidAction("a side-effect rating is a whole number from 0 to 10")
    lo, hi = SIDE_EFFECT_RATING
    if not lo <= rating <= hi:
        raise InvalidAction(f"a side-effect rating is from {lo} to {hi}, not {rating}")
    detail: dict[str, Any] = {"rating": rating}
    if note and note.strip():
        detail["note"] = note.strip()
    return kind, detail


def command_detail(
    outcome: str, args: tuple[object, ...], *, reason: str | None = None, message: str | None = None,
) -> dict[str, Any]:
    """A device command's event detail: the outcome, what was sent, and the device's answer."""
    if outcome not in COMMAND_OUTCOMES:
        raise ValueError(f"unknown command outcome {outcome!r}")
    detail: dict[str, Any] = {"outcome": outcome, "args": [a if isinstance(a, int | float | str) else str(a)
                                                            for a in args]}
    if reason:
        detail["reason"] = reason
    if message:
        detail["message"] = message
    return detail
