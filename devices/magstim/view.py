"""What the console knows of a Magstim unit, built from its replies, and the events that follow.

The protocol has no per-pulse message and no clock, so this view is where
the console's events come from: Status after each parameter poll (state,
power, coil temperature), Intensity when the power the unit reports changes,
Fault/Cleared from the status bits and the 40 °C limit, and Pulses for the
commands the console itself sent: one ``EH`` accepted is one pulse at the
time the command was written; on a Rapid in rTMS mode it is a train of the
unit's set number of pulses at its set frequency, with Train START/END, at
the *commanded* times (the unit reports none). A disarm cuts a train short,
and so does a reply whose status shows the unit disarmed (it disarms itself
above 40 °C or without a coil): pulses between the unit's own disarm and
that reply are counted as commanded, the one over-count this protocol
cannot avoid (the adapter polls twice a second while armed).
The adapter's notes (protocol loaded, run started/paused/ended) add what the
wire does not carry. Every output is a pure function of the calls, so a
capture replays to the same events.

``device_t`` is the adapter's own clock: milliseconds of unit time since the
first call (scaled by ``speed``, which only a simulator run faster sets).
"""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

from devices import events as ev
from devices.magstim.rules import (
    ARMED,
    COIL_PRESENT,
    ERROR_PRESENT,
    ERROR_TYPE,
    MAX_COIL_C,
    MODELS,
    PROTO,
    READY,
    REPLACE_COIL,
    SINGLE_PULSE,
    TRAIN,
    VENDOR,
    Unit,
)


class Reply(NamedTuple):
    """One accepted reply: ``error`` None, or ``command`` (``?``), ``data`` (``X?``), ``state`` (``XS``)."""

    letter: str
    error: str | None
    instr: int | None
    rapid: int | None
    values: tuple[object, ...]


FAULT_WORDS = {
    "COIL_DISCONNECTED": "no coil is connected to the stimulator",
    "COIL_OVERTEMP": f"the coil is above {MAX_COIL_C:g} °C; the stimulator disarms and cannot be armed",
    "REPLACE_COIL": "the stimulator asks for the coil to be replaced",
    "STIMULATOR_ERROR": "the stimulator reports an error",
}


class UnitView:
    """The unit's last known state; each method returns the events its input implies."""

    def __init__(self, unit: Unit, *, speed: float = 1.0, observes_pulses: bool = True) -> None:
        self.unit = unit
        self.speed = speed
        self.observes_pulses = observes_pulses
        self.identity: ev.Hello | None = None
        self.instr: int | None = None
        self.rapid: int | None = None
        self.power: int | None = None
        self.temp_c: float | None = None
        self.freq_hz: float | None = None
        self.train_pulses: int | None = None
        self.run_state: str | None = None  # RUNNING / PAUSED while the console runs a protocol
        self.pulses = 0
        self.train = 0
        self.faults: set[str] = set()
        self._t0: float | None = None
        self._due: deque[tuple[float, int]] = deque()  # (host_t, pulse count) of a running train
        self._train_end: tuple[float, int] | None = None  # (host_t, train number)
        self._train_delivered = 0

    # --- time ---------------------------------------------------------------------------------

    def device_t(self, host_t: float) -> int:
        if self._t0 is None:
            self._t0 = host_t
        return round((host_t - self._t0) * 1000.0 * self.speed)

    def next_due(self) -> float | None:
        """When the next pulse (or a train's end) falls due, if one is pending."""
        if self._due:
            return self._due[0][0]
        return self._train_end[0] if self._train_end is not None else None

    def tick(self, host_t: float) -> list[ev.DeviceEvent]:
        """The pulses (and a train's end) that are due by ``host_t``."""
        out: list[ev.DeviceEvent] = []
        if not self._due and self._train_end is None:
            return out
        while self._due and self._due[0][0] <= host_t:
            t, count = self._due.popleft()
            self._train_delivered += 1
            out.append(ev.Pulse(self.device_t(t), t, count, self.power or 0, None))
        if self._train_end is not None and self._train_end[0] <= host_t and not self._due:
            t, train = self._train_end
            self._train_end = None
            out.append(ev.Train(self.device_t(t), t, train, "END", self._train_delivered))
        return out

    def _cut_train(self, host_t: float) -> list[ev.DeviceEvent]:
        """A disarm (or the end of the run) at ``host_t``: pulses after it were not delivered."""
        out = self.tick(host_t)
        if self._due or self._train_end is not None:
            dropped = len(self._due)
            self._due.clear()
            self.pulses -= dropped
            train = self._train_end[1] if self._train_end else self.train
            self._train_end = None
            out.append(ev.Train(self.device_t(host_t), host_t, train, "END", self._train_delivered))
        return out

    # --- replies ------------------------------------------------------------------------------

    def answered(self, command: bytes, reply: Reply, sent_t: float, host_t: float) -> list[ev.DeviceEvent]:
        """A command and its accepted reply: the events they imply."""
        out: list[ev.DeviceEvent] = []
        if reply.error is not None:
            return out
        if self.identity is None and (reply.letter == "N" or not self.unit.rapid):
            firmware = str(reply.values[0]) if reply.letter == "N" else ""
            self.identity = ev.Hello(None, host_t, PROTO, VENDOR, MODELS[self.unit.model], "", firmware)
            out.append(self.identity)
        if reply.instr is not None:
            self.instr = reply.instr
            if self._due and not reply.instr & (ARMED | READY):
                out += self._cut_train(sent_t)  # disarmed (hot coil, coil off...): the train stopped
        if reply.rapid is not None:
            self.rapid = reply.rapid
        letter = reply.letter
        if letter == "J":
            out += self._power(int(reply.values[0]), host_t)  # type: ignore[call-overload]
        elif letter == "\\":
            power, freq10, pulses = reply.values[0], reply.values[1], reply.values[2]
            self.freq_hz = int(freq10) / 10.0  # type: ignore[call-overload]
            self.train_pulses = int(pulses)  # type: ignore[call-overload]
            out += self._power(int(power), host_t)  # type: ignore[call-overload]
        elif letter == "F":
            c1, c2 = reply.values
            self.temp_c = max(int(c1), int(c2)) / 10.0  # type: ignore[call-overload]
        elif letter == "E" and len(command) >= 2:
            if command[1] == 0x48:  # EH: fire
                out += self._fired(sent_t)
            elif command[1] == 0x41:  # EA: disarm
                out += self._cut_train(sent_t)
        out += self._faults(host_t)
        if letter in ("J", "\\"):
            status = self.status(host_t)
            if status is not None:
                out.append(status)
        return out

    def _power(self, power: int, host_t: float) -> list[ev.DeviceEvent]:
        known, self.power = self.power, power
        if known is not None and known != power:
            return [ev.Intensity(self.device_t(host_t), host_t, power)]
        return []

    def _fired(self, t: float) -> list[ev.DeviceEvent]:
        out = self._cut_train(t)  # a new fire ends whatever was left of the last train
        if not self.observes_pulses:
            return out
        rapid_train = (self.unit.rapid and self.rapid is not None and not self.rapid & SINGLE_PULSE
                       and self.freq_hz and self.train_pulses)
        if not rapid_train:
            self.pulses += 1
            return [*out, ev.Pulse(self.device_t(t), t, self.pulses, self.power or 0, None)]
        assert self.freq_hz is not None and self.train_pulses is not None
        self.train += 1
        period = 1.0 / (self.freq_hz * self.speed)
        n = self.train_pulses
        out.append(ev.Train(self.device_t(t), t, self.train, "START", n))
        self._due.extend((t + k * period, self.pulses + k + 1) for k in range(n))
        self.pulses += n
        self._train_end = (t + n * period, self.train)
        self._train_delivered = 0
        return out + self.tick(t)

    def _faults(self, host_t: float) -> list[ev.DeviceEvent]:
        instr = self.instr
        if instr is None:
            return []
        now = set()
        if not instr & COIL_PRESENT:
            now.add("COIL_DISCONNECTED")
        if instr & REPLACE_COIL:
            now.add("REPLACE_COIL")
        if instr & ERROR_PRESENT:
            now.add("STIMULATOR_ERROR")
        if self.temp_c is not None and self.temp_c > MAX_COIL_C:
            now.add("COIL_OVERTEMP")
        out: list[ev.DeviceEvent] = []
        t = self.device_t(host_t)
        for code in sorted(now - self.faults):
            text = FAULT_WORDS[code]
            if code == "STIMULATOR_ERROR":
                text += f" (error type {1 if instr & ERROR_TYPE else 0})"
            elif code == "COIL_OVERTEMP":
                text = f"the coil is at {self.temp_c:.1f} °C; " + text.split("; ", 1)[1]
            out.append(ev.Fault(t, host_t, code, text))
        out += [ev.Cleared(t, host_t, code) for code in sorted(self.faults - now)]
        self.faults = now
        return out

    def state(self) -> str:
        if self.faults:
            return "FAULT"
        if self.run_state is not None:
            return self.run_state
        if self.rapid is not None and self.rapid & TRAIN:
            return "RUNNING"
        if self.instr is not None and self.instr & (ARMED | READY):
            return "ARMED"
        return "IDLE"

    def status(self, host_t: float) -> ev.Status | None:
        if self.power is None:
            return None
        return ev.Status(self.device_t(host_t), host_t, self.state(), self.power, self.temp_c, None)

    # --- the adapter's notes ------------------------------------------------------------------

    def note(self, kind: str, data: dict[str, Any], host_t: float) -> list[ev.DeviceEvent]:
        """What the console decided or saw and the wire does not carry: ``protocol``, ``start``,
        ``pause``, ``resume``, ``end`` (with ``reason``), ``lost`` (with ``reason``), ``restored``."""
        t = self.device_t(host_t)
        out: list[ev.DeviceEvent] = self.tick(host_t)
        if kind == "lost":
            return [*out, ev.DeviceLost(None, host_t, str(data.get("reason", "")))]
        if kind == "restored":
            return [*out, ev.DeviceRestored(None, host_t)]
        if kind == "protocol":
            out.append(ev.ProtocolLoaded(t, host_t, str(data["name"]), float(data["freq_hz"]),
                                         int(data["pulses_per_train"]), int(data["trains"]),
                                         float(data["iti_s"]), int(data["burst"])))
            return out
        if kind == "start":
            self.pulses = self.train = 0
            self.run_state = "RUNNING"
        elif kind == "pause":
            out += self._cut_train(host_t)
            self.run_state = "PAUSED"
        elif kind == "resume":
            self.run_state = "RUNNING"
        elif kind == "end":
            out += self._cut_train(host_t)
            self.run_state = None
            out.append(ev.EndOfSession(t, host_t, self.pulses, str(data.get("reason", "STOPPED"))))
            return out
        status = self.status(host_t)
        if status is not None:
            out.append(status)
        return out
