"""``sim://`` addresses: the simulator started on a pty (TCP where there are no ptys) by the adapter."""

from __future__ import annotations

import os

import pytest

from devices.adapter import DeviceError
from devices.events import EndOfSession, Pulse
from devices.registry import adapter_schemes, create_adapter
from devices.sim import adapter as sim_adapter


@pytest.mark.parametrize("ptys", [True, False], ids=["pty", "tcp-as-on-windows"])
def test_sim_address_records_a_whole_itbs_run_and_stops_its_simulator(
    ptys: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sim_adapter, "ptys_available", lambda: ptys)
    adapter = create_adapter("sim://itbs?speed=1000&seed=3")
    adapter.open()
    try:
        assert adapter.identity is not None and adapter.identity.model == "SIM-1"
        assert adapter.simulator.port.startswith("/") if ptys else adapter.simulator.port.startswith(
            "socket://127.0.0.1:")
        adapter.command("START")
        pulses, end = [], None
        while end is None:
            for event in adapter.events(idle_timeout=20):
                if isinstance(event, Pulse):
                    pulses.append(event.count)
                elif isinstance(event, EndOfSession):
                    end = event
                    break
            else:
                pytest.fail("the simulated device went silent before the end of the run")
        assert pulses == list(range(1, 601))
        assert end.pulses == 600 and end.reason == "COMPLETE"
        pid = adapter.simulator.pid
    finally:
        adapter.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the simulator process is gone with the adapter


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sim://itbs?speed=abc", "must be a number"),
        ("sim://itbs?speed=5000", "between 1 and 1000"),
        ("sim://itbs?colour=red", "Unknown option 'colour'"),
    ],
)
def test_bad_sim_addresses_say_what_is_wrong(url: str, words: str) -> None:
    with pytest.raises(DeviceError, match=words):
        create_adapter(url)


def test_sim_is_listed_among_the_schemes() -> None:
    assert "sim" in adapter_schemes()
