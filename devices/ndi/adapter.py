"""The live link to an NDI Polaris or Aurora on a serial line: ``ndi+serial://``.

One reader thread owns the link (as in :mod:`devices.magventure.adapter`): the Combined API is
command -> reply, so the same thread sets the unit up, then polls it, decodes every reply
(:class:`~devices.ndi.codec.Receiver`) and hands the events to an unbounded queue (it never waits
for the consumer).

Set-up, as ndicapi and scikit-surgerynditracker do it (VENDORS.md §1.4): the port at 9600 8N1,
``INIT:`` (no answer: a serial break, ``RESETBE6F``, ``INIT:`` again), ``COMM:50000`` and the port
to 115200 100 ms after ``OKAY``, ``VER:0`` (the Hello), then the tools: with ROM files (Polaris)
``PHSR:01``/``PHF`` to free stale handles, per tool ``PHRQ`` and ``PVWR`` in 64-byte chunks; without
(Aurora, wired tools) the handles ``PHSR:02`` lists. Then ``PINIT``, ``PENA:hhD`` (the coil first,
then the reference: the receiver names them by that order), ``TSTART:``, and ``BX:0801`` (or
``TX:0801`` with ``reply=tx``) at up to 120 Hz, so each of the camera's 60 frames a second
is caught once. ``TSTOP:`` on close.

Which tool is which: ``coil=ROMFILE`` and ``reference=ROMFILE`` name the ROM of each; without them
the unit's own handles are used in port order, the first for the coil and the second for the head
reference (plug the coil into the first port).

No reply for ``silence_timeout`` while tracking is DeviceLost; the port is then reopened with a
backoff and set up from INIT again; DeviceRestored follows once the same unit (serial number)
tracks again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import cast

import serial

from devices import events as ev
from devices.adapter import DeviceAdapter, DeviceError, EventQueue, split_url
from devices.link_life import LinkLife
from devices.ndi import wire
from devices.ndi.capture import FROM_DEVICE, FROM_HOST, CaptureWriter
from devices.ndi.codec import Receiver, Reply
from devices.serial_port import PORT_ERRORS, SerialTransport, why

log = logging.getLogger(__name__)

START_BAUD = 9600
TRACK_BAUD = 115200
COMM_115200 = "COMM:50000"
ROM_MAX = 1024
"""ndicapi sends at most 1 KiB of a ROM file (16 chunks of 64 bytes, zero-padded)."""
POLL_HZ = 120.0
"""Twice the camera's 60 Hz: polled at its own rate, the host's timing jitter would sample some frames
twice and miss others; the receiver drops a repeated frame number. One poll is outstanding at a
time, so on a 115200-baud line (a two-tool BX reply takes ~9 ms) this settles near 90 polls/s."""
REPLY_OPTION = "0801"
"""Transforms (0x0001) and tools out of volume too (0x0800), so out-of-volume is seen, not guessed."""
ERRORS = {
    "01": "invalid command", "02": "command too long", "03": "command too short",
    "04": "invalid CRC in the command", "05": "command timed out", "06": "bad communication settings",
    "07": "wrong number of parameters", "08": "invalid port handle", "09": "invalid tracking priority",
    "0A": "invalid LED", "0B": "invalid LED state", "0C": "command invalid in the current mode",
    "0D": "no tool is assigned to this port handle", "0E": "port handle not initialised",
    "0F": "port handle not enabled", "10": "system not initialised", "11": "cannot stop tracking",
    "12": "cannot start tracking", "13": "the tool in the port could not be initialised",
    "14": "invalid position sensor characterisation", "15": "the measurement system could not start",
    "1F": "the tool's ROM data could not be written",
}
"""Codes as ndicapi's ndiErrorString lists them (ndicapi.cxx:505ff; its comments are one off)."""


BAUD_ERRORS: tuple[type[BaseException], ...] = (*PORT_ERRORS, ValueError)


class _LinkFailed(Exception):
    """The set-up or the link failed; the message is the reason, for a person."""


class _Port(SerialTransport):
    """The serial transport plus what the Combined API needs: a baud change and a break."""

    def set_baudrate(self, baud: int) -> bool:
        self.baudrate = baud
        port = cast(serial.SerialBase | None, self._port)
        if port is None:
            return True
        try:
            port.baudrate = baud
        except BAUD_ERRORS as exc:
            log.debug("setting %d baud on %s failed: %s", baud, self.name, exc)
            return False
        return True

    def send_break(self) -> None:
        port = cast("serial.Serial | None", self._port)
        try:
            if port is not None and port.is_open:
                port.reset_input_buffer()
                port.send_break(0.25)
        except PORT_ERRORS as exc:
            log.debug("break on %s failed: %s", self.name, exc)


def _read_rom(path: str | Path, role: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DeviceError(f"Cannot read the {role} tool's ROM file {path}: {exc.strerror or exc}.") from exc
    if not data or len(data) > ROM_MAX:
        raise DeviceError(f"The {role} tool's ROM file {path} has {len(data)} bytes; an NDI tool ROM "
                          f"has 1 to {ROM_MAX}.")
    return data


def _error_text(text: str) -> str:
    code = text[5:7].upper()
    return f"NDI error {code}, {ERRORS.get(code, 'an error this console does not know')}"


class NdiAdapter(LinkLife, DeviceAdapter):
    """NDI tracker over pyserial. ``open()`` raises :class:`DeviceError` within ``open_timeout``
    seconds when nothing answers, and with the unit's error when it refuses the set-up."""

    observes_pulses = False  # a tracker does not see the stimulator's pulses
    sends_end_of_session = False
    reports_pulses = False
    """A tracker gives poses only; in a two-device session the stimulator's pulses count."""

    def __init__(
        self,
        port: str | serial.SerialBase,
        *,
        coil_rom: str | Path | None = None,
        reference_rom: str | Path | None = None,
        reply: str = "bx",
        capture: str | Path | None = None,
        poll_hz: float = POLL_HZ,
        silence_timeout: float = 2.0,
        reply_timeout: float = 0.5,
        open_timeout: float = 2.8,
        setup_timeout: float = 20.0,
        read_timeout: float = 0.01,
        backoff_start: float = 0.1,
        backoff_max: float = 2.0,
        url: str | None = None,
    ) -> None:
        if reply not in ("bx", "tx"):
            raise DeviceError(f"The reply format must be bx or tx, not {reply!r}.")
        if (coil_rom is None) != (reference_rom is None):
            raise DeviceError("Name both ROM files (coil=FILE&reference=FILE), or neither to use the "
                              "tools plugged into the unit in port order.")
        self._roms = [] if coil_rom is None or reference_rom is None else [
            _read_rom(coil_rom, "coil"), _read_rom(reference_rom, "head reference")]
        self._transport = _Port(port, baudrate=START_BAUD, read_timeout=read_timeout)
        self._port_name = self._transport.name
        self.url = url or f"ndi+serial://{self._port_name}"
        self.identity = None
        self.reply = reply
        self._poll_cmd = wire.command(f"{reply.upper()}:{REPLY_OPTION}")
        self._capture_path = Path(capture) if capture is not None else None
        self._capture: CaptureWriter | None = None
        self._interval = 1.0 / poll_hz
        self._silence_timeout = silence_timeout
        self._reply_timeout = reply_timeout
        self._open_timeout = open_timeout
        self._setup_timeout = setup_timeout
        self._backoff_start = self._backoff = backoff_start
        self._backoff_max = backoff_max

        self._receiver = Receiver(reply)
        self._rx_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._queue = EventQueue()
        self._stop = threading.Event()
        self._answered = threading.Event()
        self._ready = threading.Event()
        self._open_error: str | None = None
        self._thread: threading.Thread | None = None
        self._opened = self._closed = False
        self._connected = False
        self._tracking = False
        self._lost = False
        self.handles: tuple[int, int] | None = None
        """(coil, reference) port handles once set up."""

    # --- lifecycle -------------------------------------------------------------------------------
    def open(self) -> None:
        if not self._may_open(self._port_name):
            return
        self._transport.open()
        self._capture = self._open_capture(CaptureWriter, self._transport.close)
        self._opened = self._connected = True
        self._thread = threading.Thread(target=self._run, name=f"ndi-reader {self._port_name}")
        self._thread.start()
        if not self._answered.wait(self._open_timeout):
            self.close()
            raise DeviceError(self._silent_text(self._open_timeout))
        if not self._ready.wait(self._setup_timeout) or self._open_error is not None:
            reason = self._open_error or f"the set-up took longer than {self._setup_timeout:g} s"
            self.close()
            raise DeviceError(reason)
        log.info("opened %s: %s, coil handle %02X, reference handle %02X", self._port_name,
                 self.identity, *(self.handles or (0, 0)))

    def _silent_text(self, seconds: float) -> str:
        return (f"The NDI tracker on {self._port_name} did not answer within {seconds:g} s: check that "
                "it is switched on and that its serial cable goes to this port (9600 baud at start).")

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
        self._queue.close()

    # --- consumer side ---------------------------------------------------------------------------
    # --- the reader thread -----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._main()
        except Exception as exc:  # a bug must not leave the consumer waiting for ever
            log.exception("reader of %s stopped", self._port_name)
            if not self._ready.is_set():
                self._open_error = f"The NDI adapter stopped on an internal error ({exc})."
            self._link_down(f"the reader stopped on an internal error ({exc})")
        finally:
            self._answered.set()
            self._ready.set()

    def _main(self) -> None:
        first = True
        while not self._stop.is_set():
            if not self._connected and not self._reconnect():
                continue
            try:
                self._setup()
            except _LinkFailed as exc:
                if first:
                    self._open_error = str(exc)
                    return
                self._link_down(str(exc))
                continue
            if first:
                first = False
                self._ready.set()
            elif self._lost:
                self._lost = False
                self._backoff = self._backoff_start
                log.warning("tracker on %s tracks again", self._port_name)
                self._queue.put([ev.DeviceRestored(None, time.monotonic())])
            self._track()
        if self._connected and self._tracking and self._write(wire.command("TSTOP:")):
            with contextlib.suppress(_LinkFailed):  # best effort: the unit stops its camera
                self._wait_reply(0.5, closing=True)

    # --- set-up ----------------------------------------------------------------------------------
    def _setup(self) -> None:
        self._tracking = False
        self._transport.set_baudrate(START_BAUD)
        reply = self._ask("INIT:", 0.5)
        if reply is None:
            self._transport.send_break()  # a unit left at another rate resets to 9600 on a break
            self._wait_reply(0.6)  # its RESETBE6F (not required: INIT again either way)
            reply = self._ask("INIT:", 0.5)
        if reply is not None and reply.text == "RESET":  # a unit just reset (power-up, break): again
            reply = self._ask("INIT:", 0.5)
        if reply is None:
            raise _LinkFailed(self._silent_text(2.0))
        self._answered.set()
        self._okay(reply, "INIT", "initialise")
        self._okay(self._ask(COMM_115200), "COMM", "switch to 115200 baud")
        if self._stop.wait(0.1) or not self._transport.set_baudrate(TRACK_BAUD):
            raise _LinkFailed(f"Cannot set {self._port_name} to {TRACK_BAUD} baud.")
        known = self.identity
        ver = self._ask("VER:0")
        if ver is None or not ver.ok or (ver.text or "").startswith("ERROR"):
            raise _LinkFailed(f"The NDI tracker on {self._port_name} did not tell its version (VER).")
        found = self._receiver.identity
        if known is not None and found is not None and found.serial != known.serial:
            raise _LinkFailed(f"a different tracker answered on {self._port_name} (serial {found.serial}; "
                              f"expected {known.serial})")
        self.identity = found
        handles = self._load_roms() if self._roms else self._wired_handles()
        for handle, role in zip(handles, ("coil", "head reference"), strict=True):
            self._okay(self._ask(f"PINIT:{handle:02X}", 3.0), "PINIT", f"initialise the {role} tool")
        for handle, role in zip(handles, ("coil", "head reference"), strict=True):
            self._okay(self._ask(f"PENA:{handle:02X}D"), "PENA", f"enable the {role} tool")
        self.handles = (handles[0], handles[1])
        self._okay(self._ask("TSTART:", 3.0), "TSTART", "start tracking")
        self._tracking = True

    def _load_roms(self) -> list[int]:
        stale = self._ask("PHSR:01")
        for handle in self._phsr_handles(stale):
            self._okay(self._ask(f"PHF:{handle:02X}"), "PHF", f"free the stale port handle {handle:02X}")
        handles = []
        for rom, role in zip(self._roms, ("coil", "head reference"), strict=True):
            reply = self._ask("PHRQ:*********1****")
            self._okay(reply, "PHRQ", f"give a port handle for the {role} tool", want=None)
            assert reply is not None and reply.text is not None
            try:
                handle = int(reply.text[:2], 16)
            except ValueError:
                raise _LinkFailed(f"The NDI tracker gave no port handle for the {role} tool.") from None
            padded = rom.ljust(ROM_MAX, b"\0")
            for addr in range(0, ROM_MAX, 64):
                chunk = padded[addr:addr + 64].hex().upper()
                self._okay(self._ask(f"PVWR:{handle:02X}{addr:04X}{chunk}"), "PVWR",
                           f"load the {role} tool's ROM file")
            handles.append(handle)
        return handles

    def _wired_handles(self) -> list[int]:
        handles = sorted(set(self._phsr_handles(self._ask("PHSR:02"))))
        if len(handles) < 2:
            raise _LinkFailed(f"The NDI tracker on {self._port_name} reports {len(handles)} tool(s) "
                              "plugged in; the coil and the head reference are needed (or name their "
                              "ROM files: coil=FILE&reference=FILE).")
        return handles[:2]

    def _phsr_handles(self, reply: Reply | None) -> list[int]:
        self._okay(reply, "PHSR", "list its port handles", want=None)
        assert reply is not None and reply.text is not None
        text = reply.text
        try:
            return [int(text[2 + 5 * k:4 + 5 * k], 16) for k in range(int(text[:2], 16))]
        except ValueError:
            raise _LinkFailed(f"The NDI tracker's port handle list {text!r} cannot be read.") from None

    def _okay(self, reply: Reply | None, name: str, what: str, want: str | None = "OKAY") -> None:
        if reply is None:
            raise _LinkFailed(f"The NDI tracker on {self._port_name} did not answer when asked to "
                              f"{what} ({name}).")
        text = reply.text or ""
        if text.startswith("ERROR"):
            raise _LinkFailed(f"The NDI tracker could not {what}: {_error_text(text)}.")
        if not reply.ok or (want is not None and text != want):
            raise _LinkFailed(f"The NDI tracker gave an unexpected answer when asked to {what} "
                              f"({name}: {text[:40]!r}).")

    def _ask(self, text: str, timeout: float = 1.0) -> Reply | None:
        """Send one command and wait for its reply (None: no reply in time, or the port failed)."""
        if not self._write(wire.command(text)):
            raise _LinkFailed(f"Cannot write to {self._port_name}: the port failed.")
        return self._wait_reply(timeout)

    def _wait_reply(self, timeout: float, *, closing: bool = False) -> Reply | None:
        deadline = time.monotonic() + timeout
        while (closing or not self._stop.is_set()) and time.monotonic() < deadline:
            data, error = self._transport.read_chunk()
            replies = self._handle(data, time.monotonic()) if data else []
            if replies:
                return replies[0]
            if error is not None:
                raise _LinkFailed(f"the port was closed or unplugged ({why(error)})")
        return None

    # --- tracking --------------------------------------------------------------------------------
    def _track(self) -> None:
        last_sent = next_poll = -1e9
        waiting = False
        last_reply = time.monotonic()
        errors = 0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_poll and (not waiting or now - last_sent >= self._reply_timeout):
                if not self._write(self._poll_cmd):
                    self._link_down("the port failed while asking for a frame")
                    return
                # a steady 60 Hz on average, however late this turn came; no burst to catch up
                next_poll = max(next_poll + self._interval, now - self._interval / 2)
                last_sent, waiting = now, True
            data, error = self._transport.read_chunk()
            now = time.monotonic()
            if data:
                replies = self._handle(data, now)
                if replies:
                    waiting, last_reply = False, now
                    refused = [r for r in replies if (r.text or "").startswith("ERROR")]
                    errors = errors + len(refused) if len(refused) == len(replies) else 0
                    if errors >= 10:
                        assert refused[-1].text is not None
                        self._link_down(f"the tracker refuses {self.reply.upper()} "
                                        f"({_error_text(refused[-1].text)})"
                                        + ("; try reply=tx in the address" if self.reply == "bx" else ""))
                        return
            if error is not None:
                if not self._stop.is_set():
                    self._link_down(f"the port was closed or unplugged ({why(error)})")
                return
            if now - last_reply >= self._silence_timeout:
                self._link_down(f"no reply from the tracker for {self._silence_timeout:g} s")
                return

    # --- plumbing --------------------------------------------------------------------------------
    def _handle(self, data: bytes, now: float) -> list[Reply]:
        if self._capture is not None:
            self._capture.write(FROM_DEVICE, now, data)
        with self._rx_lock:
            replies, events = self._receiver.feed_replies(data, now)
        self._queue.put(events)
        return replies

    def _write(self, frame: bytes) -> bool:
        with self._write_lock:
            if not self._connected or not self._transport.write(frame):
                return False
            if self._capture is not None:
                self._capture.write(FROM_HOST, time.monotonic(), frame)
        with self._rx_lock:
            self._receiver.sent(frame)
        return True

    def _link_down(self, reason: str) -> None:
        self._connected = self._tracking = False
        with self._write_lock:
            self._transport.close()
        if self._capture is not None:
            self._capture.flush()
        if self._ready.is_set() and self._open_error is None:  # a failed open is said by open()
            self._say_lost(f"tracker on {self._port_name}", reason)

    def _reconnect(self) -> bool:
        if not self._backed_off():
            return False
        with self._write_lock:
            self._transport.set_baudrate(START_BAUD)
            if not self._transport.reopen():
                return False
            self._connected = True
        with self._rx_lock:
            self._receiver.new_connection()
        log.info("reopened %s, setting the tracker up again", self._port_name)
        return True


OPTIONS = ("coil", "reference", "reply", "capture")


def from_url(url: str) -> NdiAdapter:
    """``ndi+serial:///dev/ttyUSB0?coil=COIL.rom&reference=HEAD.rom&reply=bx|tx&capture=FILE``."""
    scheme, location, options = split_url(url, OPTIONS)
    if scheme != "ndi+serial":
        raise DeviceError(f"{url!r} is not an NDI address (ndi+serial://PORT).")
    if not location:
        raise DeviceError(f"The device address {url!r} names no port (e.g. ndi+serial:///dev/ttyUSB0).")
    reply = options.get("reply", "bx").strip().lower()
    if reply not in ("bx", "tx"):
        raise DeviceError(f"Option reply={options['reply']!r} in {url!r} must be bx or tx.")
    return NdiAdapter(location, coil_rom=options.get("coil") or None,
                      reference_rom=options.get("reference") or None, reply=reply,
                      capture=options.get("capture") or None, url=url)


# mypy cannot type an attribute set on a function; registry._describe reads it (the plug-in convention)
from_url.description = (  # type: ignore[attr-defined]
    "NDI Polaris/Aurora tracker (Combined API) on a serial port: "
    "ndi+serial:///dev/ttyUSB0[?coil=COIL.rom&reference=HEAD.rom&reply=bx|tx&capture=FILE]"
)
