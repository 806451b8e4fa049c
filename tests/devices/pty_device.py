"""A scripted TSCP/1 device on the master side of a real pseudo-terminal.

The adapter under test opens the slave side through pyserial, exactly as it
would open /dev/ttyUSB0; this fake writes frames into the master, answers
``ID?``, ``PING`` and commands as scripted, and can hang up (close the master,
as a pulled cable) and come back on a new pty behind the same symlink, as
/dev/serial/by-id does.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from devices.tscp import HOST_TO_DEVICE, SEQ_MOD, RawCommand, Receiver, encode_frame

HELLO = ("TSCP/1", "Acme Neuro", "SIM-1", "SN0001", "1.0.0")


def wait_until(predicate: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll until ``predicate()`` is true; generous timeouts for a loaded 2-core machine."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class PtyDevice:
    """Answers: ``answers[name]`` is "ACK", ("NAK", reason) or None (stay silent); default ACK."""

    def __init__(self, link: Path, answers: dict[str, object] | None = None) -> None:
        self.link = link
        self.answers = dict(answers or {})
        self.answer_pings = True
        self.hello = HELLO
        self.tty = ""  # the pty's own name (/dev/pts/N), as opposed to the symlink
        self.answer_id = True
        self.commands: list[RawCommand] = []
        self.seq = 0
        self._lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.host_receiver = Receiver(HOST_TO_DEVICE)

    # --- the pty --------------------------------------------------------------------------------

    def plug_in(self) -> None:
        """Open a new pty and point the symlink at it (atomically, like udev)."""
        master, slave = os.openpty()
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self.tty = os.ttyname(slave)
        tmp = self.link.with_name(self.link.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        os.replace(tmp, self.link)
        self.host_receiver = Receiver(HOST_TO_DEVICE)
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="pty-device")
        self._thread.start()

    def hang_up(self) -> None:
        """Close the master: the adapter's port hangs up, as when a USB cable is pulled."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None

    close = hang_up

    # --- writing --------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        with self._lock:
            assert self._master is not None, "the device is unplugged"
            view = memoryview(data)
            while view:
                select.select([], [self._master], [], 5.0)
                n = os.write(self._master, view)
                view = view[n:]

    def frame(self, type_: str, *fields: object) -> bytes:
        """Encode the next frame with this device's own sequence counter."""
        with self._lock:
            data = encode_frame(self.seq, type_, fields)
            self.seq = (self.seq + 1) % SEQ_MOD
        return data

    def send(self, type_: str, *fields: object) -> None:
        self.write(self.frame(type_, *fields))

    def names(self) -> list[str]:
        with self._lock:
            return [c.command for c in self.commands]

    # --- answering the host ---------------------------------------------------------------------

    def _serve(self) -> None:
        master = self._master
        assert master is not None
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.02)
            if not ready:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:  # no slave open at this instant (the adapter reopening)
                time.sleep(0.01)
                continue
            for frame in self.host_receiver.feed(data):
                command: RawCommand = frame.value
                with self._lock:
                    self.commands.append(command)
                self._answer(command)

    def _answer(self, command: RawCommand) -> None:
        name = command.command
        if name == "ID?":
            if self.answer_id:
                self.send("HELLO", *self.hello)
        elif name == "PING":
            if self.answer_pings:
                self.send("PONG", int(time.monotonic() * 1000) % 2**32)
        else:
            answer = self.answers.get(name, "ACK")
            if answer == "ACK":
                self.send("ACK", name)
            elif isinstance(answer, tuple):
                self.send("NAK", name, answer[1])
