"""tscp+socket:// — the same adapter over TCP (the simulator's --tcp mode, for PCs without ptys)."""

from __future__ import annotations

import select
import socket
import threading

import pytest

from devices import events as ev
from devices.registry import create_adapter
from devices.tscp import HOST_TO_DEVICE, Receiver, encode_frame
from tests.devices.pty_device import HELLO, wait_until


class TcpDevice:
    """Answers ID? with HELLO, PING with PONG and START with ACK, on one TCP connection at a time."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.seq = 0
        self.conn: socket.socket | None = None
        self._stop = threading.Event()
        self._drop_asked = threading.Event()
        self._dropped = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="tcp-device")
        self._thread.start()

    def send(self, type_: str, *fields: object) -> None:
        assert self.conn is not None
        self.conn.sendall(encode_frame(self.seq, type_, fields))
        self.seq += 1

    def drop(self) -> None:
        """The far end goes away (a hub restarted): the adapter must notice and reconnect.

        The serving thread closes the socket itself: closing it from the test's thread while that thread
        sits in select() on it killed the device with EBADF on a loaded machine (CI), so nothing answered
        the reconnect."""
        self._dropped.clear()
        self._drop_asked.set()
        assert self._dropped.wait(10), "the device's thread did not drop the connection"

    def _drop(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if self._drop_asked.is_set():
                self._drop_asked.clear()
                self._drop()
                self._dropped.set()
            ready, _, _ = select.select([self.server] + ([self.conn] if self.conn else []), [], [], 0.02)
            if self.server in ready:
                self._drop()
                self.conn, _ = self.server.accept()
                self.connections += 1
                self.seq = 0
                self.host = Receiver(HOST_TO_DEVICE)
            elif ready and self.conn is not None:
                data = self.conn.recv(4096)
                if not data:
                    self._drop()
                    continue
                for frame in self.host.feed(data):
                    name = frame.value.command
                    if name == "ID?":
                        self.send("HELLO", *HELLO)
                    elif name == "PING":
                        self.send("PONG", 1)
                    else:
                        self.send("ACK", name)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._drop()
        self.server.close()


@pytest.fixture
def tcp_device():
    device = TcpDevice()
    yield device
    device.close()


def test_events_and_commands_over_tcp_and_a_reconnect(tcp_device: TcpDevice) -> None:
    adapter = create_adapter(f"tscp+socket://127.0.0.1:{tcp_device.port}")
    adapter.open()
    try:
        assert adapter.identity is not None and adapter.identity.serial == HELLO[3]
        tcp_device.send("PULSE", 10, 1, 62, "141.0")
        got: list = []
        wait_until(lambda: got.extend(adapter.events(idle_timeout=0.05)) or ev.Pulse in map(type, got))
        assert [type(e) for e in got] == [ev.Hello, ev.Pulse]
        adapter.command("START")

        tcp_device.drop()
        got.clear()
        wait_until(lambda: got.extend(adapter.events(idle_timeout=0.05)) or ev.Hello in map(type, got))
        assert [type(e) for e in got] == [ev.DeviceLost, ev.DeviceRestored, ev.Hello]
        assert tcp_device.connections == 2
    finally:
        adapter.close()
