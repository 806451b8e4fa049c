"""A session's two devices as one adapter: the stimulator and a separate coil tracker (issue 17).

In a clinic the stimulator gives the pulses and the intensity, and a neuronavigation tracker (an
NDI camera, Localite TMS Navigator) gives the coil's pose. The recorder reads one stream of
events and must not care where each came from, so this adapter merges the two, in arrival
(host) order, and puts them in the stimulator's terms:

- the stimulator's events pass as they are; it is the session's device (identity, commands, its
  pulses, whether it sends an end of session). Poses come from the separate tracker only (a TSCP
  device that tracks too is not asked where the coil is twice);
- the tracker's poses are put on the stimulator's clock: the recorder times everything by one
  device clock, and a pose's time is where it falls among the pulses. The offset between the
  stimulator's clock and the host's is taken from each stimulator event that has a device time;
  before the first, a pose is placed at its host time. The pulse then gets the pose nearest
  before it, and how old it was (console.session.pose_track);
- only the stimulator's pulses count: a tracker that also reports pulses or intensity (Localite
  passes on the di/dt of each pulse) is not allowed to count them twice. Its HELLO is kept as
  ``tracker_identity`` (passing it on would read as the stimulator restarting);
- the tracker lost is its own alarm, not the stimulator's: its DeviceLost becomes a
  ``TRACKER_LOST`` fault, with a pose that says the coil is not seen (never the last pose kept
  as if still true), and DeviceRestored clears it. Recording the stimulator goes on throughout.

Each side keeps its own reader thread; a pump thread per side hands their events to one queue,
so neither device ever waits for the other or for the consumer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator

from devices import events as ev
from devices.adapter import DeviceAdapter, DeviceError, LinkCounters

log = logging.getLogger(__name__)

STIMULATOR, TRACKER = "stimulator", "tracker"
TRACKER_LOST = "TRACKER_LOST"
RATE_AFTER_S = 0.5
"""Host seconds of stimulator readings before its clock's rate is taken from them (1 until then)."""
MERGE_WAIT_S = 0.015
"""How long a stimulator's event waits for the tracker to say something later (host seconds):
longer than a serial reader's chunk, far shorter than a pose's useful age."""
_PASSED_FROM_TRACKER = (ev.Pose, ev.Fault, ev.Cleared)
"""What the tracker says that the session records; the rest is the stimulator's to say."""


class CombinedAdapter(DeviceAdapter):
    """``stimulator`` and ``tracker`` read together; see the module docstring."""

    def __init__(self, stimulator: DeviceAdapter, tracker: DeviceAdapter) -> None:
        self.stimulator = stimulator
        self.tracker = tracker
        self.url = stimulator.url
        self.tracker_identity: ev.Hello | None = None
        self.tracker_lost = False
        self.observes_pulses = stimulator.observes_pulses
        self.sends_end_of_session = stimulator.sends_end_of_session
        self._queue: queue.SimpleQueue[tuple[str, ev.DeviceEvent] | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._pumps: list[threading.Thread] = []
        self._first: tuple[int, float] | None = None  # the stimulator's clock: (device ms, host s)
        self._last: tuple[int, float] | None = None
        self._rate = 1.0  # stimulator ms per host ms
        self._held: ev.Pose | None = None
        self._ended = 0
        self._pending: dict[str, deque[ev.DeviceEvent]] = {STIMULATOR: deque(), TRACKER: deque()}
        self._seen: dict[str, float] = {STIMULATOR: float("-inf"), TRACKER: float("-inf")}

    # -------------------------------------------------------------------------- lifecycle
    def open(self) -> None:
        """The tracker first, so the coil's pose is known before the stimulator's first pulse (a
        tracker's set-up, an NDI's ROM upload, takes a second or more); then the stimulator."""
        try:
            self.tracker.open()
        except DeviceError as exc:
            raise DeviceError(f"The coil tracker did not answer: {exc}") from exc
        self.tracker_identity = self.tracker.identity
        try:
            self.stimulator.open()
        except BaseException:
            self.tracker.close()
            raise
        self.identity = self.stimulator.identity
        for name, adapter in ((STIMULATOR, self.stimulator), (TRACKER, self.tracker)):
            pump = threading.Thread(target=self._pump, args=(name, adapter), name=f"combined-{name}",
                                    daemon=True)
            pump.start()
            self._pumps.append(pump)

    def close(self) -> None:
        self._stop.set()
        for adapter in (self.tracker, self.stimulator):
            try:
                adapter.close()
            except Exception:  # closing one must not keep the other open
                log.exception("closing the %s failed", "tracker" if adapter is self.tracker else "stimulator")
        for pump in self._pumps:
            pump.join(timeout=5)
        self._pumps.clear()

    def _pump(self, name: str, adapter: DeviceAdapter) -> None:
        """Move one device's events to the shared queue, as they come."""
        put = self._queue.put
        try:
            while not self._stop.is_set():
                for event in adapter.events(idle_timeout=0.2):
                    put((name, event))
                if adapter.exhausted:
                    break
        except Exception:
            log.exception("reading the %s failed", name)
        finally:
            put(None)  # this side is done

    # ------------------------------------------------------------------------------ events
    def events(self, idle_timeout: float | None = None) -> Iterator[ev.DeviceEvent]:
        """Both devices' events merged by host time. A stimulator's event waits until the tracker
        has said something later, or until :data:`MERGE_WAIT_S` has passed (a quiet or lost tracker
        never holds the stimulator back), so a pose read just after a pulse but taken before it is
        still seen before it; the tracker's poses go out at once (a pose read before a pulse that
        came earlier is placed after it by its time, and never taken for it)."""
        get = self._queue.get
        pending = self._pending
        deadline = None if idle_timeout is None else time.monotonic() + idle_timeout
        while True:
            yield from self._release(time.monotonic())
            if self._ended >= 2 and not pending[STIMULATOR] and not pending[TRACKER]:
                self.exhausted = self.stimulator.exhausted
                return
            wait = MERGE_WAIT_S if pending[STIMULATOR] or pending[TRACKER] else None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                wait = left if wait is None else min(wait, left)
            try:
                item = get(timeout=wait)
            except queue.Empty:
                if pending[STIMULATOR] or pending[TRACKER]:
                    continue  # time to release what waited long enough
                return
            if item is None:
                self._ended += 1
                continue
            name, event = item
            pending[name].append(event)
            self._seen[name] = max(self._seen[name], event.host_t)

    def _release(self, now: float) -> Iterator[ev.DeviceEvent]:
        """What can go out now, oldest host time first."""
        pending, seen = self._pending, self._seen
        while True:
            a, b = pending[STIMULATOR], pending[TRACKER]
            if a and b:
                name = STIMULATOR if a[0].host_t <= b[0].host_t else TRACKER
            elif b:
                name = TRACKER  # a pose goes out at once: the view shows the coil as fresh as it is
            elif a:
                name = STIMULATOR
                head = a[0]
                if head.host_t > seen[TRACKER] and now - head.host_t < MERGE_WAIT_S and self._ended < 2:
                    return  # the tracker may still have a pose taken before this pulse
            else:
                return
            event = pending[name].popleft()
            yield from (self._from_stimulator(event) if name == STIMULATOR else self._from_tracker(event))

    def _from_stimulator(self, event: ev.DeviceEvent) -> list[ev.DeviceEvent]:
        out: list[ev.DeviceEvent] = []
        if event.device_t is not None:
            self._clock(event.device_t, event.host_t)
            if self._held is not None:  # the tracker's latest pose from before the stimulator's clock
                held, self._held = self._held, None
                out = self._from_tracker(held)
        kind = type(event)
        if kind is ev.Hello:
            self.identity = event  # type: ignore[assignment]
        elif kind is ev.Pose:
            return out  # a stimulator with a tracker of its own: the separate tracker is the one used
        return [*out, event]

    def _clock(self, device_t: int, host_t: float) -> None:
        """Follow the stimulator's clock against the host's: its latest reading, and its rate
        (1 ms a ms for a real device, give or take its crystal; a simulator may run faster)."""
        last = self._last
        if last is None or device_t < last[0]:  # the first reading, or the device restarted
            self._first = (device_t, host_t)
        self._last = (device_t, host_t)
        first = self._first
        if first is not None and host_t - first[1] >= RATE_AFTER_S and device_t > first[0]:
            self._rate = (device_t - first[0]) / ((host_t - first[1]) * 1000.0)

    def _on_stimulator_clock(self, host_t: float) -> int:
        """The stimulator's device time at host time ``host_t`` (0 before it has one: a tracker's
        fault then is at the start of the session)."""
        last = self._last
        if last is None:
            return 0
        return max(0, round(last[0] + (host_t - last[1]) * 1000.0 * self._rate))

    def _from_tracker(self, event: ev.DeviceEvent) -> list[ev.DeviceEvent]:
        kind = type(event)
        if kind is ev.Hello:
            self.tracker_identity = event  # type: ignore[assignment]
            return []
        if kind is ev.DeviceLost:
            self.tracker_lost = True
            t = self._on_stimulator_clock(event.host_t)
            reason = getattr(event, "reason", "") or "no answer"
            log.warning("coil tracker lost: %s", reason)
            return [ev.Fault(t, event.host_t, TRACKER_LOST, f"the coil tracker: {reason}"),
                    ev.Pose(t, event.host_t, None, None, None, None, None, None, None, 0.0)]
        if kind is ev.DeviceRestored:
            self.tracker_lost = False
            log.info("coil tracker answers again")
            return [ev.Cleared(self._on_stimulator_clock(event.host_t), event.host_t, TRACKER_LOST)]
        if kind in _PASSED_FROM_TRACKER:
            if self._last is None and kind is ev.Pose:
                # No time on the stimulator's clock yet to place it at: keep the latest until there is
                # (its clock starts where the stimulator's does, never at the host's).
                self._held = event  # type: ignore[assignment]
                return []
            return [event._replace(device_t=self._on_stimulator_clock(event.host_t))]
        return []  # its pulses, intensity, status and run events are the stimulator's to say

    # ------------------------------------------------------------------------ the rest
    def counters(self) -> LinkCounters:
        """Both links together (each is kept apart in :meth:`tracker_counters` and the stimulator's)."""
        a, b = self.stimulator.counters(), self.tracker.counters()
        return LinkCounters(a.received + b.received, a.rejected + b.rejected, a.missing + b.missing,
                            a.rejected_lines + b.rejected_lines)

    def tracker_counters(self) -> LinkCounters:
        return self.tracker.counters()

    def supports(self, command: str) -> bool:
        return self.stimulator.supports(command)

    def command(self, name: str, *args: object, timeout: float = 2.0) -> None:
        self.stimulator.command(name, *args, timeout=timeout)


def combine(stimulator: DeviceAdapter, tracker: DeviceAdapter | None) -> DeviceAdapter:
    """The session's adapter: the stimulator alone, or with its separate tracker."""
    return stimulator if tracker is None else CombinedAdapter(stimulator, tracker)


__all__ = ["TRACKER_LOST", "CombinedAdapter", "combine"]
