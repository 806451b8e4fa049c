"""What the recorder knows of the device itself: who it is, whether it is
reachable, and which faults it reports.

Its own job apart from the recording state machine: faults and outages are
recorded as events and raised as alarms the moment the device (or the
adapter, for an outage) reports them, whatever the session's state.
"""

from __future__ import annotations

from console.resource_data.lists import fault_pause_reason
from console.session.recording_terms import EventSink
from console.session.session_alarms import SessionAlarms
from devices import events as ev


class DeviceHealth:
    """Identity, link and faults of the session's device."""

    def __init__(self, event: EventSink, alarms: SessionAlarms) -> None:
        self._event = event
        self._alarms = alarms
        self.identity: ev.Hello | None = None
        self.connected = False
        self.active_faults: dict[str, str | None] = {}  # code -> the device's words
        self.faults = 0
        self.outage = False
        self.outage_since_pulse = False  # an outage began after the last pulse received
        self.greetings = 0  # HELLOs seen: one after pulses may mean the device restarted its run
        self.coil_type: str | None = None  # the coil the device last reported (None: it names none)

    @property
    def label(self) -> str | None:
        """"Acme Neuro SIM-1 SN0001", or None before the device said who it is."""
        i = self.identity
        return f"{i.vendor} {i.model} {i.serial}" if i else None

    def identity_columns(self) -> dict[str, str]:
        """The session row's device columns (none before the device said who it is), and the coil
        it reported (issue 14, item 6; issue 16)."""
        i = self.identity
        out = {"coil_type": self.coil_type} if self.coil_type else {}
        if i is None:
            return out
        return {"device_vendor": i.vendor, "device_model": i.model, "device_serial": i.serial,
                "device_firmware": i.firmware, **out}

    def on_coil(self, host_t: float, device_t: int | None, coil: str | None) -> None:
        """The coil the device reports; a change during the session is an event in the record."""
        coil = (coil or "").strip() or None
        if coil is None or coil == self.coil_type:
            return
        if self.coil_type is not None:
            self._event(host_t, device_t, "coil_changed", None, {"from": self.coil_type, "to": coil}, None)
        self.coil_type = coil

    def fault_words(self) -> str:
        """Why the device stopped, in plain words (the pause reason at the chair, in the note and
        the review); the fault codes stay in the fault events (issue 14, item 10)."""
        return fault_pause_reason(list(self.active_faults))

    def on_fault(self, e: ev.Fault) -> None:
        if e.code in self.active_faults:
            return  # the same fault repeated: one fault
        self.active_faults[e.code] = e.text
        self.faults += 1
        self._event(e.host_t, e.device_t, "fault", e.code, {"text": e.text} if e.text else None, None)
        text = f" ({e.text})" if e.text else ""
        message = f"Device fault {', '.join(self.active_faults)}{text}"
        self._alarms.raise_("device_fault", message, e.host_t, e.device_t)

    def on_cleared(self, e: ev.Cleared) -> None:
        if e.code not in self.active_faults:
            return
        del self.active_faults[e.code]
        self._event(e.host_t, e.device_t, "clear", e.code, None, None)
        if self.active_faults:
            self._alarms.reword("device_fault", f"Device fault {', '.join(self.active_faults)}")
        else:
            self._alarms.clear("device_fault", e.host_t, e.device_t)

    def on_hello(self, e: ev.Hello) -> None:
        before = self.identity
        self.identity = e
        self.greetings += 1
        if before is not None and (before.serial, before.model) != (e.serial, e.model):
            self._event(e.host_t, None, "device_changed", None, {
                "before": f"{before.vendor} {before.model} {before.serial}",
                "now": f"{e.vendor} {e.model} {e.serial}",
            }, None)

    def on_lost(self, e: ev.DeviceLost) -> bool:
        """The link is gone; True when this begins an outage (not a repeat of one)."""
        if self.outage:
            return False
        self.outage = True
        self.outage_since_pulse = True
        self.connected = False
        self._event(e.host_t, e.device_t, "device_lost", None, {"reason": e.reason}, None)
        self._alarms.raise_("device_lost", f"Device lost: {e.reason}", e.host_t, e.device_t)
        return True

    def on_restored(self, e: ev.DeviceRestored) -> None:
        self.connected = True
        if not self.outage:
            return
        self.outage = False
        self._event(e.host_t, e.device_t, "device_restored", None, None, None)
        self._alarms.clear("device_lost", e.host_t, e.device_t)


class DeviceTime:
    """The device's 32-bit millisecond clock, unwrapped: ``t_last`` only moves forward."""

    WRAP = 1 << 32

    def __init__(self) -> None:
        self._last_raw: int | None = None
        self._offset = 0
        self.t0: int | None = None  # the first device time seen (the plots' origin)
        self.t_last: int | None = None

    def rebase(self, raw: int) -> None:
        """The device restarted (its clock began again at ``raw``): time runs on from ``t_last``."""
        if self.t_last is not None:
            self._offset = self.t_last - raw
        self._last_raw = raw

    def advance(self, raw: int) -> None:
        last = self._last_raw
        if raw == last:
            return
        if last is not None and raw < last and last - raw > self.WRAP // 2:
            self._offset += self.WRAP  # the device clock wrapped
        self._last_raw = raw
        t = raw + self._offset
        if self.t0 is None:
            self.t0 = t
        if self.t_last is None or t > self.t_last:
            self.t_last = t

    def at(self, raw: int) -> int:
        """Device time ``raw`` on the unwrapped clock (an event read after a later one keeps its
        own time here, where ``t_last`` does not go back)."""
        return raw + self._offset

    def seconds(self, t: int | None) -> float:
        """Session seconds of device time ``t`` (from the first time seen)."""
        if t is None or self.t0 is None:
            return 0.0
        return (t - self.t0) / 1000.0
