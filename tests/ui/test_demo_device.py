"""The demo's device address follows the demo settings and opens a real simulated device."""

from __future__ import annotations

import pytest

from console.ui.chair.demo import demo_device_url
from devices.registry import create_adapter


def test_demo_device_url_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMS_CONSOLE_DEMO_SPEED", raising=False)
    monkeypatch.delenv("TMS_CONSOLE_DEMO_SCENARIOS", raising=False)
    assert demo_device_url() == "sim://10hz?speed=1"
    monkeypatch.setenv("TMS_CONSOLE_DEMO_SPEED", "20")
    monkeypatch.setenv("TMS_CONSOLE_DEMO_SCENARIOS", "drift, unplug")
    assert demo_device_url() == "sim://10hz?speed=20&scenario=drift,unplug"
    monkeypatch.setenv("TMS_CONSOLE_DEMO_SPEED", "fast")
    assert demo_device_url().startswith("sim://10hz?speed=1&")  # not a number: real time


def test_the_demo_address_opens_the_simulated_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMS_CONSOLE_DEMO_SPEED", "100")
    monkeypatch.delenv("TMS_CONSOLE_DEMO_SCENARIOS", raising=False)
    adapter = create_adapter(demo_device_url())
    adapter.open()
    try:
        assert adapter.identity is not None and adapter.identity.model == "SIM-1"
    finally:
        adapter.close()
