"""The live link to Localite TMS Navigator's JSON interface (TCP 6666): ``localite+tcp://HOST:6666``.

One reader thread owns the connection, as in :mod:`devices.magventure.adapter`: it reads what has
arrived, decodes it (:class:`~devices.localite.codec.Receiver`), hands events to an unbounded queue
(it never waits for the consumer), sends the polls, and watches the line.

What is asked, and how often. Whether Navigator pushes positions by itself is not known (the public
client only ever asks), so the adapter asks with ``{"get": KEY}`` objects: the coil's status, the
reference's status and the coil's position ``poll_hz`` times a second (default 10: InVesalius' own
navigation loop runs no faster, VENDORS.md §1.3); the amplitude, temperature, position control
and patient registration once a second. di/dt is never asked for (the answer would be the last
pulse's again): Navigator sends it by itself after each pulse, and each one is a Pulse.

Liveness. Navigator answers every poll, so no accepted object for ``silence_timeout`` (3 s), a
connection closing before anything was accepted on it, or a refused connection is DeviceLost; a
new connection is then tried with a backoff, and DeviceRestored follows once Navigator answers on
it. One persistent connection is used, where the public client opens one per message: whether
Navigator keeps a connection open is unverified (docs), so a connection Navigator closes *after*
answering on it is no alarm: the adapter connects again for the next poll (``reconnects``).

The adapter only reads: it never selects an instrument, sets a target or an amplitude, or fires.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from devices import events as ev
from devices.adapter import DeviceAdapter, DeviceError, EventQueue, split_url
from devices.link_life import LinkLife
from devices.localite.capture import FROM_DEVICE, FROM_HOST, NEW_CONNECTION, CaptureWriter
from devices.localite.codec import Receiver
from devices.localite.link import TcpLink, why

log = logging.getLogger(__name__)

DEFAULT_PORT = 6666
POLL_HZ_RANGE = (1.0, 50.0)
SLOW_POLL_S = 1.0


def requests(keys: tuple[str, ...]) -> bytes:
    """``{"get": KEY}`` objects back to back, as Navigator's own messages are (no delimiter)."""
    return b"".join(json.dumps({"get": key}).encode("ascii") for key in keys)


class LocaliteAdapter(LinkLife, DeviceAdapter):
    """TMS Navigator over one TCP connection; ``open()`` returns once Navigator answered, or raises
    :class:`DeviceError` within ``open_timeout`` seconds."""

    observes_pulses = False
    """Navigator relays di/dt after a pulse, but whether it does for every pulse the stimulator
    fires by itself (a train, a TTL trigger) is unverified: the adapter cannot promise to see each."""
    reports_pulses = True
    """Each di/dt message is a Pulse (``count`` cumulative). In a session with a stimulator, the
    stimulator's pulses count and these are ignored; alone, they are what there is."""
    sends_end_of_session = False

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        coil: int = 0,
        capture: str | Path | None = None,
        poll_hz: float = 10.0,
        silence_timeout: float = 3.0,
        open_timeout: float = 2.5,
        read_timeout: float = 0.05,
        backoff_start: float = 0.1,
        backoff_max: float = 2.0,
        url: str | None = None,
    ) -> None:
        if coil not in (0, 1):
            raise DeviceError(f"The coil must be 0 or 1, not {coil!r}.")
        if not POLL_HZ_RANGE[0] <= poll_hz <= POLL_HZ_RANGE[1]:
            raise DeviceError(f"The poll rate must be {POLL_HZ_RANGE[0]:g} to {POLL_HZ_RANGE[1]:g} "
                              f"per second, not {poll_hz:g}.")
        self._link = TcpLink(host, port, read_timeout)
        self.url = url or f"localite+tcp://{host}:{port}"
        self.identity = None
        self.coil = coil
        p = f"coil_{coil}_"
        self._fast = requests((p + "status", "reference_status", p + "position"))
        self._slow = requests(("patient_registration_status", p + "amplitude", p + "temperature",
                               p + "position_control", p + "type"))
        self._capture_path = Path(capture) if capture is not None else None
        self._capture: CaptureWriter | None = None
        self._poll_s = 1.0 / poll_hz
        self._silence_timeout = silence_timeout
        self._open_timeout = open_timeout
        self._backoff_start = self._backoff = backoff_start
        self._backoff_max = backoff_max

        self._receiver = Receiver(coil)
        self._rx_lock = threading.Lock()
        self._queue = EventQueue()
        self._stop = threading.Event()
        self._identified = threading.Event()
        self._thread: threading.Thread | None = None
        self._opened = self._closed = False
        self._connected = False
        self._lost = False
        self._answered = False  # an object was accepted on the current connection
        self.reconnects = 0
        """Connections Navigator closed after answering on them, each opened again at once."""

    @property
    def where(self) -> str:
        return self._link.name

    # --- lifecycle -------------------------------------------------------------------------------
    def open(self) -> None:
        if not self._may_open(f"TMS Navigator at {self.where}"):
            return
        deadline = time.monotonic() + self._open_timeout
        try:
            self._link.connect(self._open_timeout)
        except OSError as exc:
            raise DeviceError(
                f"Cannot connect to TMS Navigator at {self.where}: {why(exc)}; check that Navigator runs "
                "with its JSON interface on and that this computer reaches it on the network."
            ) from exc
        self._capture = self._open_capture(lambda path: CaptureWriter(path, self.coil), self._link.close)
        self._opened = self._connected = True
        self._thread = threading.Thread(target=self._run, name=f"localite-reader {self.where}")
        self._thread.start()
        if not self._identified.wait(max(deadline - time.monotonic(), 0.0)):
            self.close()
            raise DeviceError(
                f"TMS Navigator at {self.where} accepted the connection but did not answer within "
                f"{self._open_timeout:g} s: check that this address is the Navigator PC's and that its "
                "JSON interface (TCP 6666) is switched on."
            )
        log.info("opened TMS Navigator at %s (coil %d)", self.where, self.coil)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._link.close()
        if self._capture is not None:
            self._capture.close()
        self._queue.close()

    # --- consumer side ---------------------------------------------------------------------------
    def noise(self) -> tuple[int, int, int]:
        """(blocked, errors, ignored): accepted objects that gave no event (see the codec)."""
        with self._rx_lock:
            r = self._receiver
            return r.blocked, r.errors, r.ignored

    # --- the reader thread -----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug must not leave the consumer waiting for ever
            log.exception("reader of TMS Navigator at %s stopped", self.where)
            self._link_down(f"the reader stopped on an internal error ({exc})")

    def _loop(self) -> None:
        self._greet()
        last_rx = last_slow = time.monotonic()
        next_poll = last_rx + self._poll_s
        while not self._stop.is_set():
            if not self._connected:
                if self._lost:
                    if self._reconnect():
                        last_rx = last_slow = time.monotonic()
                        next_poll = last_rx + self._poll_s
                # Navigator closed a connection it had answered on: connect again for the next poll
                elif not self._stop.wait(max(next_poll - time.monotonic(), 0.0)) \
                        and not self._connect_again():
                    self._link_down("TMS Navigator closed the connection and a new one could not be made")
                continue
            data, error = self._link.read_chunk(next_poll - time.monotonic())
            now = time.monotonic()
            if data and self._handle(data, now):
                last_rx = now
            if error is not None:
                if self._stop.is_set():
                    return
                if self._answered and not self._lost:
                    self._closed_after_answering(error)
                else:
                    self._link_down(error)
                continue
            if now >= next_poll:
                # on time on average; after a stall (a loaded machine) start afresh, no burst
                next_poll += self._poll_s
                if next_poll <= now:
                    next_poll = now + self._poll_s
                ok = self._send(self._fast)
                if ok and now - last_slow >= SLOW_POLL_S:
                    last_slow = now
                    ok = self._send(self._slow)
                if self._capture is not None:
                    self._capture.flush()
                if not ok:
                    self._link_down("the connection failed while asking for the position")
                    continue
            if now - last_rx >= self._silence_timeout:
                self._link_down(f"no answer from TMS Navigator for {self._silence_timeout:g} s")

    def _greet(self) -> None:
        self._send(self._slow + self._fast)

    def _handle(self, data: bytes, now: float) -> bool:
        """Decode one chunk and queue its events; True when an object was accepted."""
        if self._capture is not None:
            self._capture.write(FROM_DEVICE, now, data)
        with self._rx_lock:
            before = self._receiver.received
            events = self._receiver.feed(data, now)
            accepted = self._receiver.received > before
        if accepted:
            self._answered = True
            if self.identity is None:
                self.identity = self._receiver.identity
                self._identified.set()
            if self._lost:
                self._lost = False
                self._backoff = self._backoff_start
                log.warning("TMS Navigator at %s answers again", self.where)
                events.insert(0, ev.DeviceRestored(None, now))
        self._queue.put(events)
        return accepted

    def _send(self, data: bytes) -> bool:
        if not self._connected or not self._link.write(data):
            return False
        if self._capture is not None:
            self._capture.write(FROM_HOST, time.monotonic(), data)
        return True

    def _link_down(self, reason: str) -> None:
        self._connected = False
        self._link.close()
        self._say_lost(f"TMS Navigator at {self.where}", reason)

    def _closed_after_answering(self, reason: str) -> None:
        """Navigator closed a connection after answering on it: no alarm, a new connection at the
        next poll. The public client opens one connection per message; a Navigator that expects
        that may close each one, and this keeps the poses coming. Only a connection that closes
        before answering, or silence, is a loss."""
        self._connected = False
        self._link.close()
        self.reconnects += 1
        log.debug("TMS Navigator at %s closed an answered connection (%s); connecting again",
                  self.where, reason)

    def _connect_again(self) -> bool:
        try:
            self._link.connect(min(self._open_timeout, 1.0))
        except OSError as exc:
            log.debug("connecting again to %s failed: %s", self.where, exc)
            return False
        self._new_connection(forget_visibility=False)
        return True

    def _new_connection(self, forget_visibility: bool) -> None:
        with self._rx_lock:
            self._receiver.new_connection(forget_visibility)
        if self._capture is not None:
            self._capture.write(NEW_CONNECTION, time.monotonic(),
                                json.dumps({"forget_visibility": forget_visibility}).encode("ascii"))
        self._connected, self._answered = True, False

    def _reconnect(self) -> bool:
        if not self._backed_off():
            return False
        try:
            self._link.connect(min(self._open_timeout, 1.0))
        except OSError as exc:
            log.debug("reconnecting to %s failed: %s", self.where, exc)
            return False
        self._new_connection(forget_visibility=True)
        log.info("reconnected to TMS Navigator at %s", self.where)
        self._greet()
        return True


OPTIONS = ("coil", "capture", "poll_hz")


def from_url(url: str) -> LocaliteAdapter:
    """``localite+tcp://HOST:6666?coil=0&poll_hz=10&capture=FILE``."""
    _scheme, location, options = split_url(url, OPTIONS)
    where = location.strip("/")
    if ":" in where and not where.endswith("]"):
        host, _, port_text = where.rpartition(":")
    else:
        host, port_text = where, ""
    host = host.strip("[]")
    if not host:
        raise DeviceError(f"The device address {url!r} names no Navigator PC (e.g. "
                          "localite+tcp://192.168.1.20:6666).")
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise DeviceError(f"The port in {url!r} must be a number from 1 to 65535 "
                          f"(TMS Navigator listens on {DEFAULT_PORT}).") from None
    coil_text = options.get("coil", "0").strip()
    if coil_text not in ("0", "1"):
        raise DeviceError(f"Option coil={options['coil']!r} in {url!r} must be 0 or 1.")
    try:
        poll_hz = float(options.get("poll_hz", "10"))
    except ValueError:
        raise DeviceError(f"Option poll_hz={options['poll_hz']!r} in {url!r} must be a number.") from None
    if not POLL_HZ_RANGE[0] <= poll_hz <= POLL_HZ_RANGE[1]:
        raise DeviceError(f"Option poll_hz={options['poll_hz']!r} in {url!r} must be "
                          f"{POLL_HZ_RANGE[0]:g} to {POLL_HZ_RANGE[1]:g}.")
    return LocaliteAdapter(host, port, coil=int(coil_text), capture=options.get("capture") or None,
                           poll_hz=poll_hz, url=url)


# mypy cannot type an attribute set on a function; registry._describe reads it (the plug-in convention)
from_url.description = (  # type: ignore[attr-defined]
    "Localite TMS Navigator (coil pose, di/dt, amplitude) over TCP: "
    "localite+tcp://HOST:6666[?coil=0|1&poll_hz=10&capture=FILE]"
)
