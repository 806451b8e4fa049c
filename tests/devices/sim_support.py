"""Reading the simulator as a plain host would: pyserial on the real pty and the TSCP Receiver.

No adapter in between, so these tests pin down the device's bytes themselves.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable
from pathlib import Path

import serial

from devices.tscp import Frame, Receiver


def command_bytes(seq: int, type_: str, *fields: object) -> bytes:
    body = ",".join([str(seq), type_, *(str(f) for f in fields)]).encode("ascii")
    return b"$%s*%04X\r\n" % (body, binascii.crc_hqx(body, 0xFFFF))


class Host:
    """A host on the simulator's port: sends commands, collects frames and raw bytes."""

    def __init__(self, port: str, *, greet: bool = True) -> None:
        self.port = port
        self.receiver = Receiver()
        self.frames: list[Frame] = []
        self.raw = bytearray()
        self._seq = 0
        self._cursor = 0
        self.ser = self._open()
        if greet:
            self.send("ID?")

    def _open(self) -> serial.SerialBase:
        if self.port.startswith("socket://"):
            return serial.serial_for_url(self.port, timeout=0.05)
        return serial.Serial(self.port, timeout=0.05)

    def close(self) -> None:
        self.ser.close()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, type_: str, *fields: object) -> None:
        self.ser.write(command_bytes(self._seq, type_, *fields))
        self._seq += 1

    def read_some(self) -> list[Frame]:
        # pyserial's socket:// in_waiting says at most 1: there, ask for a block (the timeout ends it)
        data = self.ser.read(65536 if self.port.startswith("socket://") else self.ser.in_waiting or 1)
        self.raw += data
        got = self.receiver.feed(data)
        self.frames += got
        return got

    def read_until(self, done: Callable[[Frame], bool], timeout: float = 60.0) -> Frame:
        """The next frame (after the one the previous call returned) that satisfies ``done``."""
        deadline = time.monotonic() + timeout
        while True:
            while self._cursor < len(self.frames):
                f = self.frames[self._cursor]
                self._cursor += 1
                if done(f):
                    return f
            if time.monotonic() > deadline:
                break
            self.read_some()
        raise AssertionError(f"no such frame within {timeout} s; last frames {self.frames[-3:]}")

    def reply_to(self, type_: str, *fields: object, timeout: float = 30.0) -> Frame:
        """Send a command and return its ACK or NAK (or, for ID?/PING, HELLO/PONG)."""
        self.send(type_, *fields)
        want = {"ID?": ("HELLO",), "PING": ("PONG",)}.get(type_, ("ACK", "NAK"))
        return self.read_until(
            lambda f: f.type in want and (f.type not in ("ACK", "NAK") or f.fields[0] == type_), timeout
        )

    def of_type(self, *types: str) -> list[Frame]:
        return [f for f in self.frames if f.type in types]


def reopen_when_back(link: Path, old_target: str, timeout: float = 30.0) -> None:
    """Wait until the link points to a new pty (the device was plugged in again)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if str(link.readlink()) != old_target:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise AssertionError("the link never pointed to a new pty")
