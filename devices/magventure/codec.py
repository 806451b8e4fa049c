"""MagVenture MagPro: the receiver that turns the stimulator's bytes into console events.

Frames are cut by :class:`~devices.magventure.frames.FrameSplitter` (the exact receiver rule is
in that module), payloads decoded by :func:`~devices.magventure.messages.decode_message`, and the
messages interpreted here, keeping what the unit last said (amplitude, enabled, coil, running):

* status reply (00/05) -> Hello (first time, and when another unit answers), Status, and
  Intensity/Train when the status shows a change the line did not report;
* 01 -> Intensity when the amplitude changed (the front panel or the coil's button, too);
* 02 -> Pulse, with di/dt A kept;
* 03 -> Status when coil or temperature changed; a coil type falling to 0 -> Fault
  COIL_DISCONNECTED (Cleared when a coil is recognised again);
* 08 -> Train START/END when "train running" changes;
* 0C (layout b) -> the device's own count: pulses it gave that never arrived are ``missing``;
* 0B (layout b) -> ProtocolLoaded with the Timing page's train settings.

The MagPro has no clock on the line, so ``device_t`` is host milliseconds since the first byte the
receiver was fed (from the capture's timestamps on replay, so a replay gives the same values).
``Pulse.count`` is the adapter's own running count of di/dt packets, plus the pulses known missing:
a jump in the count is pulses the unit gave and the line lost, never an invented pulse.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from devices import events as ev
from devices.magventure.frames import MAX_LEN, REJECTED_KEPT, FrameSplitter, crc8, encode_frame
from devices.magventure.messages import (
    MODELS,
    Amplitude,
    CoilInfo,
    DiDt,
    Message,
    PageInfo,
    StatusReply,
    StimCount,
    TrainSettings,
    coil_name,
    decode_message,
)

__all__ = ["FIRMWARE_UNKNOWN", "MAX_LEN", "PROTO", "REJECTED_KEPT", "VENDOR", "Receiver", "crc8",
           "encode_frame"]

PROTO = "MagVenture MagPro serial"
VENDOR = "MagVenture"
FIRMWARE_UNKNOWN = "not reported"
"""The MagPro's serial protocol carries no firmware version."""
COUNT_MOD = 65536
COIL_FAULT = "COIL_DISCONNECTED"


class Receiver:
    """Bytes in any split -> events; counters ``received``, ``rejected``, ``missing`` and
    ``rejected_lines`` (raw bytes of the last 50 rejected pieces)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._split = FrameSplitter()
        self.missing = 0
        self._t0: float | None = None
        # what the unit last said
        self.amp: int | None = None
        self.enabled = False
        self.running = False
        self.temp: int | None = None
        self.coil: int | None = None
        self.coil_fault = False
        self.identity: ev.Hello | None = None
        self.train_settings: TrainSettings | None = None
        # counting
        self.pulses = 0
        self.train = 0
        self._train_pulses = 0
        self._count_base: tuple[int, int] | None = None  # (device count, pulses received) at baseline
        self._missing_base = 0
        self._gap = 0

    # --- counters ------------------------------------------------------------------------------
    @property
    def received(self) -> int:
        return self._split.received

    @property
    def rejected(self) -> int:
        return self._split.rejected

    @property
    def rejected_lines(self) -> deque[bytes]:
        return self._split.rejected_lines

    def new_connection(self) -> None:
        """The port was reopened: a torn frame from before never joins the new bytes. The unit's
        count is still compared with the same baseline (the adapter checks that the same unit
        answers), so pulses it gave while the cable was out show as missing."""
        self._split.reset()

    # --- feeding -------------------------------------------------------------------------------
    def feed(self, data: bytes, host_t: float | None = None) -> list[ev.DeviceEvent]:
        """Process ``data``; the events it completes, in order."""
        return self.feed_messages(data, host_t)[1]

    def feed_messages(self, data: bytes, host_t: float | None = None
                      ) -> tuple[list[Message], list[ev.DeviceEvent]]:
        """As :meth:`feed`, with the accepted messages too (the adapter matches replies to them)."""
        if host_t is None:
            host_t = self._clock()
        if self._t0 is None:
            self._t0 = host_t
        device_t = int((host_t - self._t0) * 1000.0)
        split = self._split
        messages: list[Message] = []
        out: list[ev.DeviceEvent] = []
        for payload in split.split(data):
            message = decode_message(payload)
            if message is None:
                split.reject(encode_frame(payload))
                continue
            split.received += 1
            messages.append(message)
            self._interpret(message, device_t, host_t, out)
        return messages, out

    # --- interpretation ------------------------------------------------------------------------
    def _interpret(self, m: Message, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        kind = type(m)
        if kind is DiDt:
            assert isinstance(m, DiDt)
            self.pulses += 1
            self._train_pulses += 1
            out.append(ev.Pulse(t, h, self.pulses + self.missing, self.amp or 0, float(m.didt_a)))
        elif kind is StatusReply:
            assert isinstance(m, StatusReply)
            self._on_status(m, t, h, out)
        elif kind is Amplitude:
            assert isinstance(m, Amplitude)
            self._amplitude(m.amp_a, t, h, out)
            if m.sb.enabled != self.enabled:
                self.enabled = m.sb.enabled
                out.append(self._status(t, h))
        elif kind is CoilInfo:
            assert isinstance(m, CoilInfo)
            changed = (m.temp, m.coil, m.sb.enabled) != (self.temp, self.coil, self.enabled)
            self.temp, self.enabled = m.temp, m.sb.enabled
            self._coil(m.coil, t, h, out)
            if changed:
                out.append(self._status(t, h))
        elif kind is PageInfo:
            assert isinstance(m, PageInfo)
            enabled_changed = m.sb.enabled != self.enabled
            self.enabled = m.sb.enabled
            if self._running(m.running, t, h, out) or enabled_changed:
                out.append(self._status(t, h))
        elif kind is StimCount:
            assert isinstance(m, StimCount)
            self._device_count(m.stim_count)
        elif kind is TrainSettings:
            assert isinstance(m, TrainSettings)
            if m != self.train_settings:
                self.train_settings = m
                out.append(ev.ProtocolLoaded(t, h, "MagPro Timing page", m.rate_x10 / 10.0, m.pulses,
                                             m.trains, m.iti_x10 / 10.0, 1))

    def _on_status(self, m: StatusReply, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        model, serial = MODELS[m.sb.model], str(m.serial)
        known = self.identity
        if known is None or (known.model, known.serial) != (model, serial):
            self.identity = ev.Hello(None, h, PROTO, VENDOR, model, serial, FIRMWARE_UNKNOWN)
            out.append(self.identity)
        self.temp, self.enabled = m.temp, m.sb.enabled
        self._coil(m.coil, t, h, out)
        if self.amp is not None:
            self._amplitude(m.amp_a, t, h, out)
        else:
            self.amp = m.amp_a  # the Status below carries it
        if m.running is not None:
            self._running(m.running, t, h, out)
        out.append(self._status(t, h))

    def _status(self, t: int, h: float) -> ev.Status:
        if self.coil_fault:
            state = "FAULT"
        elif self.running:
            state = "RUNNING"
        else:
            state = "ARMED" if self.enabled else "IDLE"
        temp = None if self.temp is None else float(self.temp)
        coil = None if self.coil is None else coil_name(self.coil)
        return ev.Status(t, h, state, self.amp or 0, temp, coil)

    def _amplitude(self, amp: int, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        if amp != self.amp:
            self.amp = amp
            out.append(ev.Intensity(t, h, amp))

    def _coil(self, coil: int, t: int, h: float, out: list[ev.DeviceEvent]) -> None:
        before = self.coil
        self.coil = coil
        if coil == 0 and before and not self.coil_fault:
            self.coil_fault = True
            out.append(ev.Fault(t, h, COIL_FAULT, "the stimulator reports no recognised coil (type 0)"))
        elif coil and self.coil_fault:
            self.coil_fault = False
            out.append(ev.Cleared(t, h, COIL_FAULT))

    def _running(self, running: bool, t: int, h: float, out: list[ev.DeviceEvent]) -> bool:
        """Train START/END on a change of "train running"; True when it changed."""
        if running == self.running:
            return False
        self.running = running
        if running:
            self.train += 1
            self._train_pulses = 0
            planned = self.train_settings.pulses if self.train_settings is not None else 0
            out.append(ev.Train(t, h, self.train, "START", planned))
        elif self.train:
            out.append(ev.Train(t, h, self.train, "END", self._train_pulses))
        return True

    def _device_count(self, count: int) -> None:
        """Pulses the unit counted that never arrived; a gap counts once two replies in a row show it
        (a pulse may be counted just before its di/dt packet is sent)."""
        base = self._count_base
        if base is None or count < base[0]:  # first reply, a new connection, or the unit reset it
            self._count_base = (count, self.pulses)
            self._missing_base = self.missing
            self._gap = 0
            return
        gap = (count - base[0]) - (self.pulses - base[1])
        confirmed = min(gap, self._gap)
        self._gap = gap
        if self._missing_base + confirmed > self.missing:
            self.missing = self._missing_base + confirmed
