"""Adapters found by address scheme, third-party ones through entry points, and `devices`."""

from __future__ import annotations

import argparse
from importlib import metadata
from pathlib import Path

import pytest

from devices import registry
from devices.adapter import DeviceAdapter, DeviceError, LinkCounters
from devices.replay import ReplayAdapter
from devices.serial_adapter import SerialAdapter

BUILT_IN = {"tscp+serial", "serial", "tscp+socket", "replay"}


class AcmeAdapter(DeviceAdapter):
    """A vendor plug-in as a third party would write it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def open(self) -> None: ...
    def close(self) -> None: ...
    def events(self, idle_timeout=None):
        return iter(())
    def counters(self) -> LinkCounters:
        return LinkCounters(0, 0, 0, ())


def acme_factory(url: str) -> AcmeAdapter:
    """Acme MagStim-9000 over its own protocol: acme://COM4"""
    return AcmeAdapter(url)


def broken_factory(url: str) -> AcmeAdapter:
    raise AssertionError("never called")


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch):
    """The registry as at start-up, with these entry points instead of the installed ones."""
    monkeypatch.setattr(registry, "_schemes", dict(registry._schemes))
    monkeypatch.setattr(registry, "_entry_points_loaded", False)

    def use(*entries: tuple[str, str]) -> None:
        points = [metadata.EntryPoint(n, v, registry.ENTRY_POINT_GROUP) for n, v in entries]
        monkeypatch.setattr(registry, "_entry_points", lambda: points)

    return use


def test_built_in_schemes_are_listed_with_a_description() -> None:
    schemes = registry.adapter_schemes()
    assert set(schemes) >= BUILT_IN
    assert all(schemes[s] and "\n" not in schemes[s] for s in schemes)


def test_the_installed_package_declares_the_built_ins_as_entry_points() -> None:
    names = {e.name for e in metadata.entry_points(group=registry.ENTRY_POINT_GROUP)}
    assert names >= BUILT_IN


@pytest.mark.parametrize(
    ("url", "port", "baud"),
    [
        ("tscp+serial:///dev/ttyUSB0?baud=115200", "/dev/ttyUSB0", 115200),
        ("serial:///dev/ttyACM1", "/dev/ttyACM1", 115200),
        ("serial://COM3?baud=9600", "COM3", 9600),
        ("tscp+socket://127.0.0.1:5555", "socket://127.0.0.1:5555", 115200),
    ],
)
def test_serial_addresses(url: str, port: str, baud: int) -> None:
    adapter = registry.create_adapter(url)
    assert isinstance(adapter, SerialAdapter) and adapter.url == url
    assert (adapter._port_name, adapter._baudrate) == (port, baud)


def test_capture_option(tmp_path: Path) -> None:
    adapter = registry.create_adapter(f"serial:///dev/ttyUSB0?capture={tmp_path}/cap.tscp")
    assert isinstance(adapter, SerialAdapter) and adapter._capture_path == tmp_path / "cap.tscp"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x", r"Unknown kind of device address 'ftp://'.*known schemes: .*replay://.*tscp\+serial://"),
        ("/dev/ttyUSB0", r"not a device address: expected scheme://location"),
        ("serial:///dev/ttyUSB0?baud=fast", r"baud rate .* must be a positive whole number"),
        ("serial:///dev/ttyUSB0?bauds=9600", r"Unknown option 'bauds'.*known options: baud, capture"),
        ("serial://", r"names no port"),
    ],
)
def test_bad_addresses_get_one_clear_sentence(url: str, message: str) -> None:
    with pytest.raises(DeviceError, match=message):
        registry.create_adapter(url)


def test_schemes_are_case_insensitive() -> None:
    assert isinstance(registry.create_adapter("REPLAY://x.tscp"), ReplayAdapter)


def test_register_scheme_adds_an_adapter(fresh_registry) -> None:
    fresh_registry()
    registry.register_scheme("acme", acme_factory, "Acme stimulator")
    adapter = registry.create_adapter("acme://COM4")
    assert isinstance(adapter, AcmeAdapter) and adapter.url == "acme://COM4"
    assert registry.adapter_schemes()["acme"] == "Acme stimulator"


def test_third_party_adapters_come_from_entry_points(fresh_registry, caplog) -> None:
    here = __name__
    fresh_registry(
        ("acme", f"{here}:acme_factory"),
        ("ghost", "no_such_module_anywhere:factory"),  # broken plug-in: logged, skipped
        ("replay", f"{here}:broken_factory"),  # may not take a built-in's scheme
    )
    schemes = registry.adapter_schemes()
    assert schemes["acme"] == "Acme MagStim-9000 over its own protocol: acme://COM4"
    assert "ghost" not in schemes
    assert isinstance(registry.create_adapter("acme://COM4"), AcmeAdapter)
    assert isinstance(registry.create_adapter("replay://x.tscp"), ReplayAdapter)
    assert "ghost" in caplog.text and "failed to load" in caplog.text


def test_devices_command_lists_adapters_and_ports(capsys: pytest.CaptureFixture[str]) -> None:
    import main
    from cli import devices_cmd

    assert devices_cmd in main.COMMANDS
    parser = argparse.ArgumentParser()
    devices_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["devices"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    for scheme in BUILT_IN:
        assert f"{scheme}://" in out
    assert "Serial ports present" in out
