"""How numbers read on screen: one place, so every screen says it the same way."""

from __future__ import annotations

DASH = "–"


def clock(seconds: float | None) -> str:
    """Seconds as m:ss (or h:mm:ss); a dash when unknown."""
    if seconds is None:
        return DASH
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def number(value: float | int | None, digits: int = 0) -> str:
    """A value with a fixed number of decimals; a dash when unknown."""
    if value is None:
        return DASH
    return f"{value:.{digits}f}"


def signed(value: float | None, digits: int = 1) -> str:
    """A signed offset (+1.2 / −0.4), a dash when unknown."""
    if value is None:
        return DASH
    text = f"{value:+.{digits}f}"
    return text.replace("-", "−")


def percent(share: float | None) -> str:
    """A 0..1 share as a whole percent."""
    if share is None:
        return DASH
    return f"{100 * share:.0f} %"
