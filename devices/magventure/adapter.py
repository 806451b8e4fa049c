"""The live link to a MagVenture MagPro on its serial port (COM2, 38400 8N1): ``magventure+serial://``.

One reader thread owns the link, as in :mod:`devices.serial_adapter`: it reads what the port has,
decodes it (:class:`~devices.magventure.codec.Receiver`), hands events to an unbounded queue (it
never waits for the consumer), matches the unit's messages to commands waiting for them, polls the
status, and watches the line. The MagPro sends nothing while idle and needs no keep-alive, so the
status poll is also the liveness check: no reply for ``silence_timeout`` is DeviceLost; the port is
then reopened with a backoff and the unit greeted with a status request; DeviceRestored follows
once the same unit (model and serial number) answers.

Status poll: a long status (05, 19 bytes) every second. That keeps coil temperature and the
console's 1 Hz status current while using 0.6 % of the 38400-baud line (24 bytes/s of ~3840),
half the rate TMS Navigator itself polls these units at (pytms: "Localite sends 5 twice a
second"); in layout b a stimulus-count request (0C) rides along to detect lost pulses.

Commands are sent only with ``control=1``; recording never depends on them.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import serial

from devices import events as ev
from devices.adapter import (
    COMMANDS,
    CommandError,
    CommandRefused,
    CommandTimeout,
    CommandUnsupported,
    DeviceAdapter,
    DeviceError,
    EventQueue,
    parse_flag,
    split_url,
)
from devices.link_life import LinkLife
from devices.magventure import messages as msg
from devices.magventure.capture import FROM_DEVICE, FROM_HOST, CaptureWriter
from devices.magventure.codec import Receiver
from devices.magventure.control import Match, enabled_is, train_values
from devices.magventure.frames import encode_frame
from devices.serial_port import SerialTransport, why

log = logging.getLogger(__name__)

BAUDRATE = 38400
OFFERED = ("LOAD", "SET", "START", "STOP")
TIMING_PAGE = 2

class _Waiter:
    __slots__ = ("done", "match", "result")

    def __init__(self, match: Match) -> None:
        self.match = match
        self.done = threading.Event()
        self.result: str | None = None


class MagVentureAdapter(LinkLife, DeviceAdapter):
    """MagPro over pyserial; ``open()`` returns once the unit answered a status request, or raises
    :class:`DeviceError` after ``open_timeout`` seconds of silence."""

    observes_pulses = True
    sends_end_of_session = False  # the MagPro never says its run ended: the plan's last train does

    def __init__(
        self,
        port: str | serial.SerialBase,
        *,
        capture: str | Path | None = None,
        control: bool = False,
        layout: str = "a",
        poll_interval: float = 1.0,
        silence_timeout: float = 3.0,
        open_timeout: float = 2.5,
        read_timeout: float = 0.05,
        backoff_start: float = 0.05,
        backoff_max: float = 1.0,
        url: str | None = None,
    ) -> None:
        if layout not in msg.LAYOUTS:
            raise DeviceError(f"The command layout must be a or b, not {layout!r}.")
        self._transport = SerialTransport(port, baudrate=BAUDRATE, read_timeout=read_timeout)
        self._port_name = self._transport.name
        self.url = url or f"magventure+serial://{self._port_name}"
        self.identity = None
        self.control = control
        self.layout = layout
        self._capture_path = Path(capture) if capture is not None else None
        self._capture: CaptureWriter | None = None
        self._poll_interval = poll_interval
        self._silence_timeout = silence_timeout
        self._open_timeout = open_timeout
        self._backoff_start = self._backoff = backoff_start
        self._backoff_max = backoff_max

        self._receiver = Receiver()
        self._rx_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._queue = EventQueue()
        self._stop = threading.Event()
        self._identified = threading.Event()
        self._thread: threading.Thread | None = None
        self._opened = self._closed = False
        self._connected = False
        self._lost = False
        self._greeting = False
        self._held: list[ev.DeviceEvent] = []
        self._waiters: list[_Waiter] = []
        self._waiters_lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------------------------------
    def open(self) -> None:
        if not self._may_open(self._port_name):
            return
        self._transport.open()
        self._capture = self._open_capture(CaptureWriter, self._transport.close)
        self._opened = self._connected = self._greeting = True
        self._thread = threading.Thread(target=self._run, name=f"magventure-reader {self._port_name}")
        self._thread.start()
        if not self._identified.wait(self._open_timeout):
            self.close()
            raise DeviceError(
                f"The MagVenture stimulator on {self._port_name} did not answer within "
                f"{self._open_timeout:g} s: check that it is switched on and that a null-modem cable "
                "goes to its COM2 port (38400 baud)."
            )
        log.info("opened %s: %s %s serial %s", self._port_name, *self._who())

    def _who(self) -> tuple[str, str, str]:
        i = self.identity
        return (i.vendor, i.model, i.serial) if i is not None else ("?", "?", "?")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._transport.cancel_read()
            self._thread.join()
        with self._write_lock:
            self._transport.close()
        if self._capture is not None:
            self._capture.close()
        self._fail_waiters()
        self._queue.close()

    # --- consumer side ---------------------------------------------------------------------------
    def supports(self, command: str) -> bool:
        return self.control and command in OFFERED

    def command(self, name: str, *args: object, timeout: float = 2.0) -> None:
        if name not in COMMANDS:
            raise CommandUnsupported(f"{name} is not a command the console can send to a device.")
        if not self.control:
            raise CommandUnsupported(f"The console does not control this MagVenture stimulator ({name} "
                                     "was asked); its address must say control=1 for that.")
        if name in ("PAUSE", "RESUME"):
            raise CommandUnsupported(f"The MagPro cannot {name.lower()} a train over its serial line; "
                                     "STOP it instead.")
        deadline = time.monotonic() + timeout
        if name == "SET":
            self._set(args, deadline)
        elif name == "LOAD":
            self._load(args, deadline)
        elif name == "START":
            self._start(deadline)
        elif name == "STOP":
            self._exchange("STOP", msg.enable(False), enabled_is(False), deadline)

    # --- commands --------------------------------------------------------------------------------
    def _set(self, args: tuple[object, ...], deadline: float) -> None:
        if len(args) != 1 or not isinstance(args[0], int) or isinstance(args[0], bool) \
                or not 0 <= args[0] <= 100:
            raise CommandRefused(f"SET needs one amplitude from 0 to 100 % (got {args!r}).", "BAD_VALUE")
        mso = args[0]

        def match(m: msg.Message) -> str | None:
            if isinstance(m, msg.Amplitude | msg.StatusReply):
                return "" if m.amp_a == mso else f"the stimulator shows {m.amp_a} % instead of {mso} %"
            return None

        self._exchange("SET", msg.set_amplitude(mso), match, deadline)

    def _load(self, args: tuple[object, ...], deadline: float) -> None:
        try:
            _name, freq, ppt, trains, iti, burst = args
            rate_x10, pulses, n_trains, iti_x10 = train_values(freq, ppt, trains, iti, burst)
        except (TypeError, ValueError) as exc:
            raise CommandRefused(f"The MagPro cannot take this protocol: {exc}.", "BAD_VALUE") from None
        if self.layout == "b":
            want = msg.TrainSettings(rate_x10, pulses, n_trains, iti_x10)

            def match(m: msg.Message) -> str | None:
                if isinstance(m, msg.TrainSettings):
                    return "" if m == want else "the stimulator shows other train settings"
                return None
        else:
            def match(m: msg.Message) -> str | None:
                return "" if isinstance(m, msg.PageInfo) else None

        self._show_timing_page(deadline)
        payload = msg.set_train(self.layout, rate_x10, pulses, n_trains, iti_x10)
        self._exchange("LOAD", payload, match, deadline)

    def _start(self, deadline: float) -> None:
        if not self._receiver.enabled:
            self._exchange("START", msg.enable(True), enabled_is(True), deadline)
        self._show_timing_page(deadline)

        def running(m: msg.Message) -> str | None:
            if isinstance(m, msg.PageInfo | msg.StatusReply) and m.running:
                return ""
            return None

        self._exchange("START", msg.start_train(), running, deadline)

    def _show_timing_page(self, deadline: float) -> None:
        payload = bytes((0x07, TIMING_PAGE, 0)) if self.layout == "a" else bytes((0x07, TIMING_PAGE))

        def shown(m: msg.Message) -> str | None:
            return "" if isinstance(m, msg.PageInfo) and m.page == TIMING_PAGE else None

        self._exchange("page", payload, shown, deadline)

    def _exchange(self, name: str, payload: bytes, match: Match, deadline: float) -> None:
        """Send ``payload`` and wait until a message ``match`` accepts (or refuses) arrives."""
        waiter = _Waiter(match)
        with self._waiters_lock:
            self._waiters.append(waiter)
        try:
            if not self._send(payload):
                raise CommandError(f"Cannot send {name}: the stimulator is not connected.")
            answered = waiter.done.wait(max(deadline - time.monotonic(), 0.0))
        finally:
            with self._waiters_lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        if not answered:
            raise CommandTimeout(f"The stimulator did not confirm {name} in time.")
        if waiter.result is None:
            raise CommandError(f"{name} got no answer: the stimulator was lost or the adapter closed.")
        if waiter.result:
            raise CommandRefused(f"The stimulator did not take {name}: {waiter.result}.", "BAD_STATE")

    def _answer(self, messages: list[msg.Message]) -> None:
        with self._waiters_lock:
            if not self._waiters:
                return
            for m in messages:
                for waiter in list(self._waiters):
                    result = waiter.match(m)
                    if result is not None:
                        waiter.result = result
                        waiter.done.set()
                        self._waiters.remove(waiter)

    def _fail_waiters(self) -> None:
        with self._waiters_lock:
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.done.set()  # result None: no answer

    # --- the reader thread -----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug must not leave the consumer waiting for ever
            log.exception("reader of %s stopped", self._port_name)
            self._link_down(f"the reader stopped on an internal error ({exc})")

    def _poll(self) -> bool:
        ok = self._send(msg.status_request(long=True))
        if ok and self.layout == "b":
            ok = self._send(msg.get_count())
        if self._capture is not None:
            self._capture.flush()
        return ok

    def _loop(self) -> None:
        self._poll()
        last_frame = last_poll = time.monotonic()
        while not self._stop.is_set():
            if not self._connected:
                if self._reconnect():
                    last_frame = last_poll = time.monotonic()
                continue
            data, error = self._transport.read_chunk()
            now = time.monotonic()
            if data and self._handle(data, now):
                last_frame = now
            if error is not None:
                if self._stop.is_set():
                    return
                self._link_down(f"the port was closed or unplugged ({why(error)})")
                continue
            interval = self._poll_interval / 2 if self._greeting else self._poll_interval
            if now - last_poll >= interval:
                last_poll = now
                if not self._poll():
                    self._link_down("the port failed while asking for the status")
                    continue
            if now - last_frame >= self._silence_timeout:
                self._link_down(f"no answer from the stimulator for {self._silence_timeout:g} s")

    def _handle(self, data: bytes, now: float) -> bool:
        """Decode one chunk, answer waiting commands, queue the events; True when a frame was accepted."""
        if self._capture is not None:
            self._capture.write(FROM_DEVICE, now, data)
        with self._rx_lock:
            before = self._receiver.received
            messages, events = self._receiver.feed_messages(data, now)
            accepted = self._receiver.received > before
        if not accepted:
            return False
        if self._greeting:
            status = next((m for m in messages if isinstance(m, msg.StatusReply)), None)
            if status is not None and not self._same_unit(status):
                return False
            self._held += events
            if status is None:
                return True
            events, self._held = self._end_greeting(now), []
        self._answer(messages)
        self._queue.put(events)
        return True

    def _same_unit(self, status: msg.StatusReply) -> bool:
        known = self.identity
        model, serial_no = msg.MODELS[status.sb.model], str(status.serial)
        if known is None:
            self.identity = self._receiver.identity
            self._identified.set()
            return True
        if (known.model, known.serial) == (model, serial_no):
            return True
        reason = (f"a different stimulator answered on {self._port_name} ({model}, serial {serial_no}; "
                  f"expected serial {known.serial})")
        log.error("%s; nothing is recorded from it", reason)
        self._held = []
        self._link_down(reason)
        return False

    def _end_greeting(self, now: float) -> list[ev.DeviceEvent]:
        self._greeting = False
        self._backoff = self._backoff_start
        batch = self._held
        if self._lost:
            self._lost = False
            log.warning("stimulator on %s answers again", self._port_name)
            batch.insert(0, ev.DeviceRestored(None, now))
        return batch

    def _send(self, payload: bytes) -> bool:
        frame = encode_frame(payload)
        with self._write_lock:
            if not self._connected or not self._transport.write(frame):
                return False
            if self._capture is not None:
                self._capture.write(FROM_HOST, time.monotonic(), frame)
            return True

    def _link_down(self, reason: str) -> None:
        self._connected = False
        self._greeting = False
        self._held = []
        with self._write_lock:
            self._transport.close()
        self._fail_waiters()
        self._say_lost(f"stimulator on {self._port_name}", reason)

    def _reconnect(self) -> bool:
        if not self._backed_off():
            return False
        with self._write_lock:
            if not self._transport.reopen():
                return False
            self._connected = True
        with self._rx_lock:
            self._receiver.new_connection()
        self._greeting = True
        log.info("reopened %s, asking the stimulator for its status", self._port_name)
        if not self._poll():
            self._link_down("the port failed while asking for the status")
            return False
        return True


OPTIONS = ("capture", "control", "layout")


def from_url(url: str) -> MagVentureAdapter:
    """``magventure+serial:///dev/ttyUSB0?control=0&layout=a&capture=FILE`` (or ``socket://H:P``)."""
    scheme, location, options = split_url(url, OPTIONS)
    if not location:
        raise DeviceError(f"The device address {url!r} names no port (e.g. {scheme}:///dev/ttyUSB0).")
    if scheme == "magventure+socket":
        location = f"socket://{location}"
    control = parse_flag(url, "control", options["control"]) if "control" in options else False
    layout = options.get("layout", "a").strip().lower()
    if layout not in msg.LAYOUTS:
        raise DeviceError(f"Option layout={options['layout']!r} in {url!r} must be a or b.")
    return MagVentureAdapter(location, capture=options.get("capture") or None, control=control,
                             layout=layout, url=url)


# mypy cannot type an attribute set on a function; registry._describe reads it (the plug-in convention)
from_url.description = (  # type: ignore[attr-defined]
    "MagVenture MagPro on its COM2 serial port: "
    "magventure+serial:///dev/ttyUSB0[?control=1&layout=a|b&capture=FILE]"
)
