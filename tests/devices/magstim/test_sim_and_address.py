"""The simulated unit as a host sees it (raw bytes over pyserial), and the adapter's address."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import serial

from devices import events as ev
from devices.adapter import DeviceError
from devices.magstim.adapter import from_url, redact
from devices.magstim.codec import encode

from .support import UNLOCK, MagstimSim


def ask(port: serial.Serial, frame: bytes, wait: float = 0.15, *, fresh: bool = True) -> bytes:
    if fresh:
        port.reset_input_buffer()
    port.write(frame)
    deadline = time.monotonic() + wait
    data = b""
    while time.monotonic() < deadline:
        data += port.read(64)
    return data


def open_port(address: str) -> serial.Serial:
    port: serial.Serial = serial.serial_for_url(address, baudrate=9600, timeout=0.02)
    return port


def test_a_locked_rapid_is_silent_until_its_unlock_code(tmp_path: Path) -> None:
    with MagstimSim(tmp_path, "--unlock", UNLOCK) as sim, open_port(sim.port) as port:
        assert ask(port, encode("Q")) == b""
        assert ask(port, encode("N", "D")) == b""
        assert ask(port, encode("Q", "1234-12345678-ac")) == b""  # a wrong code: silence too
        reply = ask(port, encode("Q", UNLOCK))
        assert reply[:1] == b"Q" and len(reply) == 3
        assert ask(port, encode("N", "D")).startswith(b"NV9.4.0\x00")


def test_the_unit_refuses_what_its_state_forbids(tmp_path: Path) -> None:
    with MagstimSim(tmp_path, "--model", "200", "--speed", "10") as sim, open_port(sim.port) as port:
        assert ask(port, encode("E", "H"))[:2] == b"ES"  # no remote control yet
        ask(port, encode("Q"))
        assert ask(port, encode("E", "H"))[:2] == b"ES"  # not armed
        assert ask(port, encode("@", "101"))[:2] == b"@?"  # out of range
        assert ask(port, encode("W")) == b"?"  # no such command
        assert ask(port, b"J@\x00")[:2] == b"J?"  # bad checksum (the removed virtual unit's answer)
        assert ask(port, encode("E", "B"))[:1] == b"E"
        assert ask(port, encode("E", "B"))[:2] == b"ES"  # already armed
        time.sleep(0.15)  # arming takes 1 s of unit time
        assert ask(port, encode("E", "H"))[:2] == b"E\x8c"  # ready, coil present, remote
        assert [r["kind"] for r in sim.records("pulse")] == ["refused_fire", "pulse"]


@pytest.mark.parametrize(("model", "name"), [("bistim", "BiStim²"), ("horizon", "Horizon")])
def test_tcp_serves_the_adapter(tmp_path: Path, model: str, name: str) -> None:
    with MagstimSim(tmp_path, "--model", model, "--version", "8.0.0", "--tcp", "0", "--mso", "35") as sim:
        assert sim.port.startswith("socket://127.0.0.1:")
        with from_url(f"magstim+serial://{sim.port}?model={model}") as adapter:
            assert adapter.identity is not None and adapter.identity.model == name
            statuses = [e for e in adapter.events(idle_timeout=0.5) if isinstance(e, ev.Status)]
            assert statuses and statuses[0].mso == 35


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    commands = [encode("Q"), *[encode(c) for c in "JFJFJF" * 8]]

    def session(where: Path) -> bytes:
        where.mkdir()
        with MagstimSim(where, "--model", "200", "--seed", "7", "--scenario", "garbage") as sim, \
                open_port(sim.port) as port:
            got = b"".join(ask(port, c, 0.08, fresh=False) for c in commands)
            return got + ask(port, b"", 0.5, fresh=False)  # a reply that came late is still counted

    first, second = session(tmp_path / "a"), session(tmp_path / "b")
    assert first == second and len(first) > 3 * len(commands)


def test_addresses_refuse_typos_and_never_show_the_unlock_code() -> None:
    with pytest.raises(DeviceError, match="Unknown option 'contrl'") as error:
        from_url(f"magstim+serial:///dev/ttyUSB0?unlock={UNLOCK}&contrl=1")
    assert UNLOCK not in str(error.value) and "unlock=***&contrl=1' (known options: model" in str(error.value)
    with pytest.raises(DeviceError, match="not a Magstim model"):
        from_url("magstim+serial:///dev/ttyUSB0?model=super")
    with pytest.raises(DeviceError, match="names no port"):
        from_url("magstim+serial://?model=rapid")
    assert redact(f"magstim+serial:///dev/ttyUSB0?model=rapid&unlock={UNLOCK}&control=1") == (
        "magstim+serial:///dev/ttyUSB0?model=rapid&unlock=***&control=1")
    adapter = from_url(f"magstim+serial:///dev/ttyUSB0?unlock={UNLOCK}")
    assert not adapter.supports("SET") and not adapter.observes_pulses
