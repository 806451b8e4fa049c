"""The console's link to a Magstim unit: ``magstim+serial:///dev/ttyUSB0?model=rapid&unlock=...``.

One thread owns the port and talks in exchanges (a command, then its reply
or 0.25 s of silence): status polls (parameters every second, twice as often
armed, coil temperature every two seconds), the keep-alive that holds remote
control (every 0.5 s armed, 5 s disarmed, when nothing else was sent), the
console's commands and the protocol run. Events go to an unbounded queue, so
the thread never waits for the consumer. A unit silent for 3 s, or a port
that fails, is DeviceLost; the thread reopens the port, repeats the
greeting (unlock, version) and reports DeviceRestored.

Control (``control=1``) runs the console's protocol from here
(:mod:`devices.magstim.run`): the Magstim has no protocol or train-count
setting, so the adapter arms, fires each train (one ``EH``: a Rapid in rTMS
mode fires the unit's set number of pulses at its set frequency; a
200²/BiStim one pulse), times the rests itself, and disarms at the end.
Without control (the default) the unit is only watched: pulses
fired from its front panel or trigger input are invisible on this line, so
``observes_pulses`` is False.

The Rapid v9+ unlock code is a secret: it is never logged, never written to
a capture (masked), never in a message, and ``url`` shows ``unlock=***``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from devices import events as ev
from devices.adapter import (
    COMMANDS,
    CommandError,
    CommandTimeout,
    CommandUnsupported,
    DeviceAdapter,
    DeviceError,
    EventQueue,
    parse_flag,
    redact_url,
    split_url,
)
from devices.link_life import LinkLife
from devices.magstim.capture import CaptureWriter
from devices.magstim.codec import Receiver, Reply, encode
from devices.magstim.rules import (
    ARMED,
    BAUD,
    KEEPALIVE_ARMED_S,
    KEEPALIVE_IDLE_S,
    MODELS,
    READY,
    Unit,
)
from devices.magstim.run import ProtocolRun, RunState
from devices.protocol import ProtocolSpec
from devices.serial_port import SerialTransport

log = logging.getLogger(__name__)

REPLY_TIMEOUT_S = 0.25
OPEN_TIMEOUT_S = 2.2
"""Greeting attempts stop after this; with the last reply's wait, open() fails well within 3 s."""
SILENCE_S = 3.0
POLL_S = 1.0
TEMP_POLL_S = 2.0


class _PortFailed(Exception):
    """The port failed under an exchange."""


class MagstimAdapter(ProtocolRun, LinkLife, DeviceAdapter):
    """A Magstim unit on a serial port (or ``socket://`` to the simulator)."""

    def __init__(self, port: str, *, model: str = "rapid", unlock: str = "", control: bool = False,
                 capture: str | Path | None = None, speed: float = 1.0, url: str | None = None,
                 open_timeout: float = OPEN_TIMEOUT_S, silence_s: float = SILENCE_S) -> None:
        if model not in MODELS:
            raise DeviceError(f"Unknown Magstim model {model!r}: use one of {', '.join(MODELS)}.")
        self._port_name = port
        self._transport = SerialTransport(port, baudrate=BAUD, read_timeout=0.02)
        self._unit = Unit(model, None)
        self._unlock = unlock.encode("latin-1")
        self.control = control
        self.observes_pulses = control
        self._speed = speed
        self._capture_path = Path(capture) if capture else None
        self._capture: CaptureWriter | None = None
        self.url = redact(url or f"magstim+serial://{port}?model={model}")
        self.identity = None
        self._open_timeout = open_timeout
        self._silence_s = silence_s
        self._receiver = Receiver(self._unit, speed=speed, observes_pulses=control)
        self._rx_lock = threading.Lock()
        self._queue = EventQueue()
        self._jobs: queue.SimpleQueue[tuple[Callable[[], None], Future[None]]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._opened = self._closed = False
        self._connected = False
        self._lost = False
        self._last_answer = 0.0
        self._last_sent = 0.0
        self._next_poll = self._next_temp = 0.0
        self._spec: ProtocolSpec | None = None
        self._run: RunState | None = None
        self._settled_at = 0.0

    @property
    def url(self) -> str:
        return self._url

    @url.setter
    def url(self, value: str) -> None:
        # the registry sets the address it was given: the unlock code must never be kept in it
        self._url = redact(value)

    def __repr__(self) -> str:
        return f"MagstimAdapter({self.url!r})"

    # --- lifecycle ------------------------------------------------------------------------------

    def open(self) -> None:
        if not self._may_open(self._port_name):
            return
        self._transport.open()
        self._capture = self._open_capture(CaptureWriter, self._transport.close)
        self._connected = True
        try:
            if not self._greet(time.monotonic() + self._open_timeout):
                raise DeviceError(
                    f"The Magstim on {self._port_name} did not answer within 3 s: "
                    "check that it is switched on, that the cable goes to its serial port (a Rapid²'s "
                    "mainframe, not its user interface), the model in the address, and for a Rapid at "
                    "software 9 or later the unlock code.")
        except (DeviceError, _PortFailed) as exc:
            self._shut()
            if isinstance(exc, DeviceError):
                raise
            raise DeviceError(f"Cannot talk to {self._port_name}: the port failed.") from None
        self._opened = True
        self._thread = threading.Thread(target=self._main, name=f"magstim-link {self._port_name}")
        self._thread.start()
        log.info("opened %s (%s)", self._port_name, MODELS[self._unit.model])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        while True:  # commands nobody will carry out now: their callers learn it at once
            try:
                _job, future = self._jobs.get_nowait()
            except queue.Empty:
                break
            if future.set_running_or_notify_cancel():
                future.set_exception(CommandError("The command was not sent: the Magstim link was closed."))
        self._shut()
        self._queue.close()

    def _shut(self) -> None:
        self._transport.close()
        if self._capture is not None:
            self._capture.close()
            self._capture = None

    # --- the consumer's side --------------------------------------------------------------------

    def supports(self, command: str) -> bool:
        return self.control and command in COMMANDS

    def command(self, name: str, *args: object, timeout: float = 2.0) -> None:
        if name not in COMMANDS:
            raise CommandUnsupported(f"{name} is not a command the console can send to a device.")
        if not self.control:
            raise CommandUnsupported(f"The Magstim is only watched (control=0), so {name} was not sent.")
        if not self._opened or self._closed:
            raise CommandError(f"Cannot send {name}: the Magstim link is not open.")
        job = getattr(self, "_do_" + name.lower())
        future: Future[None] = Future()
        self._jobs.put((lambda: job(*args), future))
        try:
            future.result(timeout)
        except FutureTimeout:
            raise CommandTimeout(f"The Magstim did not carry out {name} within {timeout:g} s.") from None

    # --- exchanges ------------------------------------------------------------------------------

    def _exchange(self, letter: str, data: str | bytes = "@", *, secret: bool = False) -> Reply | None:
        """Write one command and read its reply; None when none came (or it was malformed)."""
        frame = encode(letter, data)
        if not self._transport.write(frame):
            raise _PortFailed
        now = time.monotonic()
        self._last_sent = now
        cap = self._capture
        with self._rx_lock:
            if cap is not None:
                cap.sent(frame, now, secret=secret)
            batch = self._receiver.sent(frame, now)
        deadline = now + REPLY_TIMEOUT_S
        failed = False
        while True:
            data_in, error = self._transport.read_chunk()
            now = time.monotonic()
            with self._rx_lock:
                if data_in:
                    if cap is not None:
                        cap.received(data_in, now)
                    batch += self._receiver.feed(data_in, now)
                done = self._receiver.done
                if error is not None or (not done and now >= deadline):
                    if cap is not None:
                        cap.closed(now)
                    batch += self._receiver.close(now)
                    failed = error is not None
                    done = True
                answer = self._receiver.answer
            if done:
                break
        self._emit(batch)
        if failed:
            raise _PortFailed
        if answer is not None:
            self._last_answer = now
        return answer

    def _emit(self, batch: list[ev.DeviceEvent]) -> None:
        for event in batch:
            if type(event) is ev.Hello:
                self.identity = event
        self._queue.put(batch)

    def _note(self, kind: str, **data: Any) -> None:
        now = time.monotonic()
        with self._rx_lock:
            if self._capture is not None:
                self._capture.note(kind, data, now)
            batch = self._receiver.view.note(kind, data, now)
        self._emit(batch)

    def _greet(self, deadline: float) -> bool:
        """Unlock / take remote control, learn the version, read the state; False when silent.

        A unit that answers but not as the model in the address (it calls the model's commands
        invalid) is a :class:`DeviceError` saying so."""
        with self._rx_lock:
            if self._capture is not None and not self._opened:
                self._capture.meta(self._unit, speed=self._speed, control=self.control,
                                   host_t=time.monotonic())
        first: tuple[str, bytes | str, bool]
        if self._unlock:
            first = ("Q", self._unlock, True)
        elif self.control:
            first = ("Q", "@", False)
        else:
            first = ("N", "D", False) if self._unit.rapid else ("J", "@", False)
        while True:
            if self._exchange(first[0], first[1], secret=first[2]) is not None:
                break
            if time.monotonic() >= deadline or self._stop.is_set():
                return False
        if self._unit.rapid:
            if self._ask("N", "D", deadline) is None:
                return False
            self._unit = self._receiver.unit
        params = self._poll_params()
        if params is not None and (params.error == "command" or self._receiver.view.identity is None):
            raise DeviceError(
                f"The unit on {self._port_name} answers, but not as a {MODELS[self._unit.model]}: check "
                "model= in the address (200, bistim, rapid or horizon).")
        self._exchange("F")
        self._next_poll = self._next_temp = time.monotonic() + POLL_S
        return True

    def _ask(self, letter: str, data: str, deadline: float) -> Reply | None:
        while not self._stop.is_set():
            reply = self._exchange(letter, data)
            if reply is not None or time.monotonic() >= deadline:
                return reply
        return None

    def _poll_params(self) -> Reply | None:
        return self._exchange("\\" if self._unit.rapid else "J")

    # --- the link thread ------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug must not leave the consumer waiting for ever
            log.exception("Magstim link on %s stopped", self._port_name)
            reason = f"the link stopped on an internal error ({exc})"
            self._queue.put([ev.DeviceLost(None, time.monotonic(), reason)])

    def _loop(self) -> None:
        self._last_answer = time.monotonic()
        backoff = 0.1
        while not self._stop.is_set():
            if not self._connected:
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, 1.0)
                self._reconnect()
                continue
            backoff = 0.1
            try:
                self._step()
            except _PortFailed:
                self._link_down("the port was closed or unplugged")

    def _wait_s(self) -> float:
        """How long the thread may wait for a console command before something else falls due."""
        due = [self._next_poll, self._next_temp]
        if self._run is not None and self._run.phase != "paused":
            due.append(self._run.next_at)
        pending = self._receiver.view.next_due()
        if pending is not None:
            due.append(pending)
        return max(0.0, min(0.05, min(due) - time.monotonic()))

    def _step(self) -> None:
        try:
            job, future = self._jobs.get(timeout=self._wait_s())
        except queue.Empty:
            job = None
        if job is not None and future.set_running_or_notify_cancel():
            try:
                job()
                future.set_result(None)
            except BaseException as exc:
                future.set_exception(exc)
        now = time.monotonic()
        run = self._run
        if run is not None and run.phase != "paused" and now >= run.next_at:
            self._run_step(run, now)
        armed = self._armed()
        if now >= self._next_poll:
            self._next_poll = now + (POLL_S / 2 if armed else POLL_S)
            reply = self._poll_params()
            if run is not None and run.phase == "between" and reply is not None and reply.instr is not None \
                    and not reply.instr & (ARMED | READY):
                self._unit_disarmed(run)
        elif now >= self._next_temp:
            self._next_temp = now + TEMP_POLL_S
            self._exchange("F")
        elif now - self._last_sent >= (KEEPALIVE_ARMED_S if armed else KEEPALIVE_IDLE_S):
            self._keep_alive()
        with self._rx_lock:
            batch = self._receiver.tick(time.monotonic())
            if batch and self._capture is not None:
                self._capture.tick(batch[-1].host_t)
        self._emit(batch)
        if time.monotonic() - self._last_answer >= self._silence_s:
            self._link_down(f"the stimulator did not answer for {self._silence_s:g} s")

    def _keep_alive(self) -> None:
        if self._unit.needs_unlock:
            self._exchange("x")
        elif self.control:
            self._exchange("Q")
        else:
            self._poll_params()

    def _armed(self) -> bool:
        instr = self._receiver.view.instr
        return instr is not None and bool(instr & (ARMED | READY))

    def _link_down(self, reason: str) -> None:
        self._connected = False
        self._transport.close()
        if self._capture is not None:
            self._capture.flush()
        if self._run is not None and self._run.phase != "paused":
            self._run.phase = "paused"
            self._note("pause", reason="link lost")
        if not self._lost:
            self._lost = True
            log.warning("Magstim on %s lost: %s", self._port_name, reason)
            self._note("lost", reason=reason)

    def _reconnect(self) -> None:
        if not self._transport.reopen():
            return
        self._connected = True
        try:
            ok = self._greet(time.monotonic() + self._open_timeout)
        except (_PortFailed, DeviceError):
            ok = False
        if not ok:
            self._connected = False
            self._transport.close()
            return
        self._last_answer = time.monotonic()
        if self._lost:
            self._lost = False
            log.warning("Magstim on %s answers again", self._port_name)
            self._note("restored")


redact = redact_url
"""``text`` (an address, or a message quoting one) with the unlock code replaced by ``***``: the
console stores the adapter's url in the session record and shows messages to people. The one
redaction every address goes through (devices.adapter.SECRET_OPTIONS names ``unlock``)."""


OPTIONS = ("model", "unlock", "control", "capture", "speed")


def from_url(url: str) -> MagstimAdapter:
    """``magstim+serial:///dev/ttyUSB0?model=rapid&unlock=CODE&control=1&capture=FILE``."""
    try:
        _scheme, location, options = split_url(url, OPTIONS)
    except DeviceError as exc:
        raise DeviceError(redact(str(exc))) from None
    shown = redact(url)
    if not location:
        raise DeviceError(f"The device address {shown!r} names no port (e.g. magstim+serial:///dev/ttyUSB0).")
    if location.startswith("127.0.0.1:") or location.startswith("localhost:"):
        location = "socket://" + location
    model = options.get("model", "rapid").lower()
    if model not in MODELS:
        raise DeviceError(f"model={model!r} in {shown!r} is not a Magstim model: "
                          f"use one of {', '.join(MODELS)}.")
    speed_text = options.get("speed", "1")
    try:
        speed = float(speed_text)
    except ValueError:
        speed = 0.0
    if not 1.0 <= speed <= 1000.0:
        raise DeviceError(f"speed={speed_text!r} in {shown!r} must be a number from 1 to 1000 "
                          "(for the simulator only).")
    control = parse_flag(shown, "control", options["control"]) if "control" in options else False
    return MagstimAdapter(location, model=model, unlock=options.get("unlock", ""), control=control,
                          capture=options.get("capture") or None, speed=speed, url=url)


# mypy cannot type an attribute set on a function; registry._describe reads it (the plug-in convention)
from_url.description = (  # type: ignore[attr-defined]
    "Magstim 200²/BiStim²/Rapid²/Horizon on a serial port: "
    "magstim+serial:///dev/ttyUSB0?model=rapid[&unlock=CODE][&control=1][&capture=FILE]"
)
