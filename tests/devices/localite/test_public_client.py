"""The public client's way of talking to Navigator, against the simulator.

ctrl-localite (pyreiz/ctrl-localite, MIT) is the only public Navigator client, and it is not on
PyPI (``pip download ctrl-localite`` finds nothing; its setup.py names it ``localite``, also not
there), so it cannot run here as a peer. What it does on the wire is small and is re-done below from
its loc.py (``localiteClient``): a new TCP connection for every message sent (connect, send,
close) and for every message read (connect, read one byte at a time until ``json.loads`` succeeds,
close). The simulator must serve that pattern as well as the console's persistent connection.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from devices.localite.sim.process import NavigatorProcess


class PerMessageClient:
    """ctrl-localite's ``localiteClient``: one connection per message, each way."""

    def __init__(self, port: int) -> None:
        self.port = port

    def send(self, message: dict[str, Any]) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(json.dumps(message).encode("ascii"))
            sock.shutdown(socket.SHUT_RDWR)

    def listen(self) -> dict[str, Any]:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            buf = bytearray(b" ")
            while True:
                byte = sock.recv(1)
                if not byte:
                    raise ConnectionError("the simulator closed the connection mid-message")
                buf += byte
                try:
                    answer: dict[str, Any] = json.loads(buf.decode("ascii"))
                except json.JSONDecodeError:
                    continue
                sock.shutdown(socket.SHUT_RDWR)
                return answer


@pytest.fixture()
def client() -> Any:
    with NavigatorProcess("--pulse-hz", "0", "--amplitude", "30") as sim:
        yield PerMessageClient(sim.port)


def listen_for(client: PerMessageClient, key: str) -> Any:
    """Read messages until ``key`` comes (the constant BLOCKED noise may come first, as on a real one)."""
    for _ in range(20):
        answer = client.listen()
        if key in answer:
            return answer[key]
    raise AssertionError(f"no {key} answer")


def test_the_public_clients_requests_are_answered_one_connection_per_message(
        client: PerMessageClient) -> None:
    client.send({"get": "coil_0_amplitude"})
    assert listen_for(client, "coil_0_amplitude") == 30
    client.send({"coil_0_amplitude": 55})
    assert listen_for(client, "coil_0_amplitude") == 55
    client.send({"get": "coil_0_position"})
    position = listen_for(client, "coil_0_position")
    assert set(position) == {"q0", "qx", "qy", "qz", "x", "y", "z"}
    client.send({"single_pulse": "COIL_0"})
    assert listen_for(client, "coil_0_didt") == pytest.approx(55 * 1.6, abs=3)
    client.send({"get": "coil_0_position_control"})
    assert listen_for(client, "coil_0_position_control") == {"position_reached": "TRUE", "index": 1}
    client.send({"coil_0_target_index": 0})  # is_valid requires n > 0: Navigator's error shape
    assert listen_for(client, "error") == {"coil_0_target_index": 0}
