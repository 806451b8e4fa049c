"""Typed, immutable events that every device adapter produces.

The recorder must not care where an event came from (a TSCP device, a vendor
stimulator, a tracker, a replayed capture), so every adapter speaks in these
values. Each carries ``device_t`` (device milliseconds, ``None`` when the event
is raised by the host itself) and ``host_t`` (the host's ``time.monotonic()``
when the bytes were read).

They are NamedTuples rather than frozen dataclasses because a serial line at
full speed produces tens of thousands a second, and a NamedTuple is immutable
and several times cheaper to build.
"""

from __future__ import annotations

from typing import NamedTuple

from devices.protocol import ProtocolSpec

RUN_STATES = ("IDLE", "ARMED", "RUNNING", "PAUSED", "FAULT")
EOS_REASONS = ("COMPLETE", "STOPPED")
NAK_REASONS = ("UNSUPPORTED", "BAD_STATE", "BAD_VALUE")
KNOWN_FAULTS = ("COIL_OVERTEMP", "COIL_DISCONNECTED", "TRACKER_LOST", "INTERLOCK", "POWER")


class Hello(NamedTuple):
    """The device introduced itself (on open, and in reply to ``ID?``)."""

    device_t: int | None
    host_t: float
    proto: str
    vendor: str
    model: str
    serial: str
    firmware: str


class Status(NamedTuple):
    """1 Hz status: run state, intensity setting, coil temperature and id."""

    device_t: int
    host_t: float
    state: str
    mso: int
    coil_temp_c: float | None
    coil_id: str | None


class ProtocolLoaded(NamedTuple):
    """The protocol now loaded on the stimulator (its fields flat, for speed; ``spec`` as one value)."""

    device_t: int
    host_t: float
    name: str
    freq_hz: float
    pulses_per_train: int
    trains: int
    iti_s: float
    burst: int

    @property
    def spec(self) -> ProtocolSpec:
        """The protocol as the one protocol type everybody else uses."""
        return ProtocolSpec(self.name, self.freq_hz, self.pulses_per_train, self.trains, self.iti_s,
                            self.burst)

    @property
    def planned_pulses(self) -> int:
        return self.pulses_per_train * self.trains


class Intensity(NamedTuple):
    """The intensity setting changed (% of maximum stimulator output)."""

    device_t: int
    host_t: float
    mso: int


class Pose(NamedTuple):
    """Coil pose in the head frame (mm, unit quaternion).

    When the tracker cannot see the coil, quality is 0 and the seven pose
    fields are ``None``: never a guessed position.
    """

    device_t: int
    host_t: float
    x: float | None
    y: float | None
    z: float | None
    qw: float | None
    qx: float | None
    qy: float | None
    qz: float | None
    quality: float

    @property
    def visible(self) -> bool:
        return self.x is not None


class Train(NamedTuple):
    """A train started (``pulses`` planned) or ended (``pulses`` delivered)."""

    device_t: int
    host_t: float
    train: int
    phase: str  # "START" or "END"
    pulses: int


class Pulse(NamedTuple):
    """One pulse fired; ``count`` is cumulative from the protocol start (1-based)."""

    device_t: int
    host_t: float
    # TSCP's name for the field; it hides tuple.count(), which nothing calls on a Pulse.
    count: int  # type: ignore[assignment]
    mso: int
    didt: float | None


class Fault(NamedTuple):
    device_t: int
    host_t: float
    code: str
    text: str | None


class Cleared(NamedTuple):
    device_t: int
    host_t: float
    code: str


class EndOfSession(NamedTuple):
    """The protocol run ended: ``reason`` is COMPLETE or STOPPED."""

    device_t: int
    host_t: float
    pulses: int
    reason: str


class DeviceLost(NamedTuple):
    """Raised by the adapter itself: the link went silent or the port vanished."""

    device_t: int | None
    host_t: float
    reason: str


class DeviceRestored(NamedTuple):
    """Raised by the adapter itself: the device answers again after a loss."""

    device_t: int | None
    host_t: float


class Pong(NamedTuple):
    """Reply to PING; adapters use it for liveness and may pass it on."""

    device_t: int
    host_t: float


class Ack(NamedTuple):
    device_t: None
    host_t: float
    command: str


class Nak(NamedTuple):
    device_t: None
    host_t: float
    command: str
    reason: str


DeviceEvent = (
    Hello
    | Status
    | ProtocolLoaded
    | Intensity
    | Pose
    | Train
    | Pulse
    | Fault
    | Cleared
    | EndOfSession
    | DeviceLost
    | DeviceRestored
)
"""What a consumer of an adapter sees (link-level Pong/Ack/Nak are handled inside)."""
