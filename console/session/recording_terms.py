"""What a session is recorded against and the recorder's small value types.

Kept apart from the recorder's state machine so that the session plan, the
runner and the tests can name the terms, the clock and the rows without
pulling in the whole recorder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from console.clinic.protocols import ProtocolSpec
from console.geometry import PoseValue


class InvalidAction(ValueError):
    """A technician's action that does not fit the session's state or is incomplete."""


@dataclass(frozen=True, kw_only=True)
class RecordingTerms:
    """What a session is recorded against: target, tolerances, pose thinning, prescription,
    protocol. The session plan carries them and the recorder's configuration extends them,
    so the two can never drift apart."""

    target: PoseValue | None = None
    tol_distance_mm: float = 3.0
    tol_angle_deg: float = 3.0
    pose_thin_mm: float = 0.5
    pose_thin_deg: float = 0.5
    pose_keep_hz: float = 1.0
    prescribed_mso: int | None = None
    mt_mso: float | None = None
    percent_mt: float | None = None
    protocol: ProtocolSpec | None = None
    tracker_pose_max_age_ms: int = 100
    """With a separate coil tracker (issue 17): a pose older than this at a pulse is no pose."""

    def terms(self) -> dict[str, Any]:
        """Just the recording terms, e.g. to build a RecorderConfig from a plan."""
        return {f.name: getattr(self, f.name) for f in fields(RecordingTerms)}


@dataclass(frozen=True, kw_only=True)
class RecorderConfig(RecordingTerms):
    """The recording terms plus the session's id and the recorder's own timing rules."""

    session_id: int | None = None
    off_target_alarm_ms: int = 1000
    tracker_lost_alarm_ms: int = 500
    pose_max_age_ms: int = 1000
    stop_grace_s: float = 3.0
    trace_interval_ms: int = 200
    pulses_observed: bool = True
    """False for a device that cannot report each pulse (issue 16): the screens say "not
    observed" instead of a count of zero."""
    ends_on_plan: bool = False
    """The device sends no end of session (a MagVenture, a Magstim): the session completes when
    the protocol's last train has ended with every planned pulse given, instead of waiting for an
    EOS that never comes (the technician would otherwise have to stop a finished session)."""


class WallClock:
    """Turns the host's monotonic times into UTC wall-clock stamps.

    One pair (monotonic, wall) taken when the session opens: stamps then
    follow the monotonic clock, so a wall-clock jump (NTP, DST) cannot
    reorder a session's events. Tests pass a fixed pair.
    """

    def __init__(self, mono0: float, wall0: datetime) -> None:
        self.mono0 = mono0
        self.wall0 = wall0 if wall0.tzinfo else wall0.replace(tzinfo=UTC)

    @classmethod
    def now(cls, monotonic: Callable[[], float]) -> WallClock:
        return cls(monotonic(), datetime.now(UTC))

    def iso(self, host_t: float) -> str:
        return (self.wall0 + timedelta(seconds=host_t - self.mono0)).isoformat(timespec="milliseconds")


@dataclass
class PendingRows:
    """Rows produced since the last take, per table, in the order they happened."""

    pulses: list[dict[str, Any]] = field(default_factory=list)
    poses: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pulses) + len(self.poses) + len(self.events)


EventSink = Callable[[float, int | None, str, str | None, dict[str, Any] | None, str | None], None]
"""Records one session event: host time, device time, kind, code, detail, by whom."""


def rounded(v: float | None, digits: int = 3) -> float | None:
    """A measurement as stored and shown (to the micrometre / millidegree)."""
    return None if v is None else round(v, digits)
