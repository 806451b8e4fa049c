"""TMS Navigator: the receiver that turns Navigator's JSON objects into console events.

Objects are cut by :class:`~devices.localite.scanner.ObjectScanner`, parsed, checked and
interpreted here for one coil (``coil_0_`` or ``coil_1_`` keys), keeping what Navigator last said:

* ``coil_N_position`` ``{"q0","qx","qy","qz","x","y","z"}`` -> :class:`~devices.events.Pose`, the
  seven fields set only while the coil's status and the reference's status are both ``"OK"`` and
  the patient registration is ``"REGISTERED"``; otherwise (and for ``null``/``"NONE"`` or an error
  answer to a position request) a Pose with the seven fields ``None`` and quality 0. Quality is 1.0
  for a seen coil: Navigator reports no accuracy over this interface.
* ``coil_N_status`` / ``reference_status`` -> visibility; a change to not-seen is a None Pose at
  once, so the console does not wait for the next position.
* ``coil_N_didt`` -> :class:`~devices.events.Pulse` (``count`` cumulative, di/dt in A/µs).
* ``coil_N_amplitude`` -> :class:`~devices.events.Intensity` when it changed.
* ``coil_N_temperature``, ``coil_N_position_control`` (position reached), ``coil_N_type``,
  ``patient_registration_status`` -> kept in :attr:`Receiver.state`.

**The frame.** Navigator gives the coil position only: no pose of the patient's reference tool
crosses this interface (``reference_status`` is all there is), so the console cannot compute
coil-relative-to-reference itself. Navigator navigates in the registered patient image (the head)
and tracks the reference to keep it there; the position it gives is taken to be that head-frame
pose and passed through unchanged, in mm, with ``q0`` as the quaternion's w. That is the public
client's view (ctrl-localite) and is **unverified** against a real Navigator; requiring
registration and a seen reference is what keeps a pose that cannot be in the head frame out.

Counting. ``received`` counts every accepted object: the ones used, the ``BLOCKED`` status noise
Navigator pushes constantly (also counted in ``blocked``: not errors, as the public client filters
them), Navigator's own error answers (``errors``), and objects of keys this receiver does not use
(``ignored``). ``rejected`` counts what the scanner rejected plus candidates that are not JSON or
hold a used key with an unusable value (out of range, wrong type, a non-unit quaternion): never
turned into a value. ``missing`` stays 0: Navigator numbers nothing, so a lost object cannot be
seen. Navigator has no clock on the line: ``device_t`` is host milliseconds since the first byte
this receiver was fed (from a capture's timestamps on replay, so a replay gives the same values).
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from devices import events as ev
from devices.localite.scanner import MAX_OBJECT, ObjectScanner

PROTO = "Localite JSON over TCP"
VENDOR = "Localite"
MODEL = "TMS Navigator"
NOT_REPORTED = "not reported"
OK = "OK"
BLOCKED = "BLOCKED"
REGISTERED = "REGISTERED"
BLOCKED_KEYS = frozenset({"pointer_status", "reference_status", "coil_0_status", "coil_1_status"})
MAX_MM = 3000.0
"""A coordinate farther than 3 m from the origin is outside any optical tracker's volume."""
QUAT_TOLERANCE = 0.01
MAX_DIDT = 1000.0
TEMP_RANGE = (-20.0, 150.0)


class NavigatorState(NamedTuple):
    """What Navigator last said besides the pose (None until it said it)."""

    coil_status: str | None
    reference_status: str | None
    registration: str | None
    amplitude: int | None
    temperature_c: float | None
    position_reached: bool | None
    target_index: int | None
    coil_type: str | None


class Bad(ValueError):
    """A used key with an unusable value: the object is rejected."""


def _parse_constant(name: str) -> float:
    raise Bad(f"{name} is not a number JSON allows")


def _number(value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Bad("not a number")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        raise Bad("out of range") from None
    if not lo <= number <= hi:
        raise Bad("out of range")
    return number


def _integer(value: Any, lo: int, hi: int) -> int:
    number = _number(value, lo, hi)
    if number != int(number):
        raise Bad("not a whole number")
    return int(number)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise Bad("not text")
    return value


def parse_position(value: Any) -> tuple[float, float, float, float, float, float, float] | None:
    """``{"q0","qx","qy","qz","x","y","z"}`` -> (x, y, z, qw, qx, qy, qz) with the quaternion made
    exactly unit; None for "no position" (``null``, ``"NONE"``); :class:`Bad` otherwise."""
    if value is None or (isinstance(value, str) and value.upper() == "NONE"):
        return None
    if not isinstance(value, dict):
        raise Bad("a position must be an object")
    try:
        x, y, z = (_number(value[k], -MAX_MM, MAX_MM) for k in ("x", "y", "z"))
        qw, qx, qy, qz = (_number(value[k], -1.0 - QUAT_TOLERANCE, 1.0 + QUAT_TOLERANCE)
                          for k in ("q0", "qx", "qy", "qz"))
    except KeyError as exc:
        raise Bad(f"the position lacks {exc}") from None
    norm = math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
    if abs(norm - 1.0) > QUAT_TOLERANCE:
        raise Bad("the orientation is not a unit quaternion")
    return x, y, z, qw / norm, qx / norm, qy / norm, qz / norm


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE"
    raise Bad("not TRUE or FALSE")


class Receiver:
    """Bytes in any split -> events for coil ``coil`` (0 or 1); counters ``received``, ``rejected``,
    ``missing``, ``rejected_lines`` (the last 50 rejected pieces), and ``blocked``, ``errors``,
    ``ignored`` (accepted objects that give no event)."""

    def __init__(self, coil: int = 0, clock: Callable[[], float] = time.monotonic,
                 max_object: int = MAX_OBJECT) -> None:
        if coil not in (0, 1):
            raise ValueError("Navigator has coil 0 and coil 1")
        self.coil = coil
        self._clock = clock
        self._scan = ObjectScanner(max_object)
        self._t0: float | None = None
        self.received = 0
        self.missing = 0
        self.blocked = 0
        self.errors = 0
        self.ignored = 0
        self.pulses = 0
        self.identity: ev.Hello | None = None
        self._coil_status: str | None = None
        self._reference_status: str | None = None
        self._registration: str | None = None
        self._amplitude: int | None = None
        self._temperature: float | None = None
        self._reached: bool | None = None
        self._target_index: int | None = None
        self._coil_type: str | None = None
        p = f"coil_{coil}_"
        self._position_key = p + "position"
        self._handlers: dict[str, Callable[[Any, int, float, list[ev.DeviceEvent]], None]] = {
            p + "position": self._position,
            p + "status": self._status,
            "reference_status": self._reference,
            "patient_registration_status": self._registered,
            p + "didt": self._didt,
            p + "amplitude": self._amplitude_changed,
            p + "temperature": self._temperature_changed,
            p + "position_control": self._position_control,
            p + "type": self._type,
        }

    # --- counters ------------------------------------------------------------------------------
    @property
    def rejected(self) -> int:
        return self._scan.rejected

    @property
    def rejected_lines(self) -> deque[bytes]:
        return self._scan.rejected_lines

    @property
    def state(self) -> NavigatorState:
        return NavigatorState(self._coil_status, self._reference_status, self._registration,
                              self._amplitude, self._temperature, self._reached, self._target_index,
                              self._coil_type)

    @property
    def seen(self) -> bool:
        """Whether a position may be passed on as a head-frame pose now."""
        return (self._coil_status == OK and self._reference_status == OK
                and self._registration == REGISTERED)

    def new_connection(self, forget_visibility: bool = True) -> None:
        """The link was reopened: a torn object never joins the new bytes. After a loss, visibility
        must be reported again before a position counts (the coil may have left the camera
        meanwhile); ``forget_visibility=False`` when Navigator closed a connection it had just
        answered on and the next is opened at once."""
        self._scan.reset()
        if forget_visibility:
            self._coil_status = self._reference_status = None

    # --- feeding -------------------------------------------------------------------------------
    def feed(self, data: bytes, host_t: float | None = None) -> list[ev.DeviceEvent]:
        """Process ``data``; the events it completes, in order."""
        if host_t is None:
            host_t = self._clock()
        if self._t0 is None:
            self._t0 = host_t
        t = int((host_t - self._t0) * 1000.0)
        out: list[ev.DeviceEvent] = []
        for raw in self._scan.split(data):
            try:
                obj = json.loads(raw, parse_constant=_parse_constant)
                self._interpret(obj, t, host_t, out)
            except (ValueError, RecursionError):  # not JSON, or nested past what json can read
                self._scan.reject(raw)  # (UnicodeDecodeError and Bad are ValueErrors too)
        return out

    # --- interpretation ------------------------------------------------------------------------
    def _interpret(self, obj: dict[str, Any], t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        """Check ``obj`` whole before changing anything, so a rejected object leaves no trace."""
        if len(obj) == 1:
            key, value = next(iter(obj.items()))
            handler = self._handlers.get(key)
            if handler is not None:
                events: list[ev.DeviceEvent] = []
                handler(value, t, h, events)  # raises Bad before changing state
                self._accept(h, out)
                out += events
                if key in BLOCKED_KEYS and value == BLOCKED:
                    self.blocked += 1  # the coil or the reference is not seen: noise all the same
                return
            self._accept(h, out)
            if key in BLOCKED_KEYS and value == BLOCKED:
                self.blocked += 1
            elif key == "error":
                self._error(value, t, h, out)
            else:
                self.ignored += 1
            return
        self._accept(h, out)
        if "error" in obj or "reason" in obj:
            self._error(obj.get("request"), t, h, out)
        else:
            self.ignored += 1

    def _accept(self, h: float, out: list[ev.DeviceEvent]) -> None:
        self.received += 1
        if self.identity is None:
            self.identity = ev.Hello(None, h, PROTO, VENDOR, MODEL, NOT_REPORTED, NOT_REPORTED)
            out.append(self.identity)

    def _error(self, request: Any, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        """Navigator refused a request; a refused position request means "no position now"."""
        self.errors += 1
        if isinstance(request, dict) and request.get("get") == self._position_key:
            out.append(self._unseen(t, h))

    def _unseen(self, t: int, h: float) -> ev.Pose:
        return ev.Pose(t, h, None, None, None, None, None, None, None, 0.0)

    def _position(self, value: Any, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        pose = parse_position(value)
        if pose is None or not self.seen:
            out.append(self._unseen(t, h))
        else:
            out.append(ev.Pose(t, h, *pose, 1.0))

    def _status(self, value: Any, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        self._visibility(_text(value), self._reference_status, t, h, out)

    def _reference(self, value: Any, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        self._visibility(self._coil_status, _text(value), t, h, out)

    def _visibility(self, coil: str | None, reference: str | None, t: int, h: float,
                    out: list[ev.DeviceEvent]) -> None:
        was = self.seen
        self._coil_status, self._reference_status = coil, reference
        if was and not self.seen:
            out.append(self._unseen(t, h))

    def _registered(self, value: Any, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        was = self.seen
        self._registration = _text(value)
        if was and not self.seen:
            out.append(self._unseen(t, h))

    def _didt(self, value: Any, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        didt = _number(value, 0.0, MAX_DIDT)
        self.pulses += 1
        out.append(ev.Pulse(t, h, self.pulses, self._amplitude or 0, didt))

    def _amplitude_changed(self, value: Any, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        amp = _integer(value, 0, 100)
        if amp != self._amplitude:
            self._amplitude = amp
            out.append(ev.Intensity(t, h, amp))

    def _temperature_changed(self, value: Any, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        self._temperature = _number(value, *TEMP_RANGE)

    def _position_control(self, value: Any, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        if not isinstance(value, dict) or "position_reached" not in value:
            raise Bad("position control must say position_reached")
        reached = _flag(value["position_reached"])
        index = _integer(value["index"], 0, 1_000_000) if "index" in value else None
        self._reached, self._target_index = reached, index

    def _type(self, value: Any, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        self._coil_type = _text(value)
