"""Commands, only with control=1: SET, LOAD, START and STOP in both command layouts, confirmed by
what the unit reports back; without control=1 the adapter sends nothing but status requests."""

from __future__ import annotations

import pytest

from devices import events as ev
from devices.adapter import CommandRefused, CommandUnsupported
from devices.magventure.adapter import from_url
from devices.magventure.sim.process import MagProProcess

from .support import collect, drain, n_pulses, of, pulses


@pytest.mark.parametrize("layout", ["a", "b"])
def test_the_console_sets_loads_starts_and_stops_the_unit(layout: str) -> None:
    with MagProProcess("--protocol", "none", "--speed", "10", "--layout", layout,
                       control=True, layout=layout) as sim:
        adapter = from_url(sim.url)
        adapter.open()
        try:
            assert all(adapter.supports(c) for c in ("LOAD", "SET", "START", "STOP"))
            assert not adapter.supports("PAUSE")
            adapter.command("SET", 55, timeout=5)
            adapter.command("LOAD", "10 Hz test", 10.0, 20, 2, 1.0, 1, timeout=5)
            adapter.command("START", timeout=5)
            events = collect(adapter, n_pulses(40), timeout=60)
            events += collect(adapter, lambda evs: any(
                isinstance(e, ev.Train) and e.phase == "END" and e.train == 2 for e in evs), timeout=30)
            adapter.command("STOP", timeout=5)
            with pytest.raises(CommandUnsupported, match="cannot pause"):
                adapter.command("PAUSE")
            with pytest.raises(CommandRefused, match="theta-burst"):
                adapter.command("LOAD", "iTBS", 5.0, 30, 20, 8.0, 3)
            with pytest.raises(CommandRefused, match="0 to 100"):
                adapter.command("SET", 120)
        finally:
            adapter.close()
        events += drain(adapter)
    assert 55 in [i.mso for i in of(events, ev.Intensity)]
    got = pulses(events)
    assert len(got) == 40 and {p.mso for p in got} == {55}
    assert [(t.train, t.phase) for t in of(events, ev.Train)] == [
        (1, "START"), (1, "END"), (2, "START"), (2, "END")]
    assert of(events, ev.Status)[-1].state == "IDLE"  # STOP disabled the unit
    if layout == "b":  # the unit reports its train settings back in layout b
        loaded = of(events, ev.ProtocolLoaded)
        assert (loaded[-1].freq_hz, loaded[-1].pulses_per_train, loaded[-1].trains, loaded[-1].iti_s) == (
            10.0, 20, 2, 1.0)


def test_without_control_the_adapter_only_records() -> None:
    with MagProProcess("--protocol", "itbs", "--speed", "50") as sim:
        assert "control=0" in sim.url
        adapter = from_url(sim.url)
        adapter.open()
        try:
            assert not any(adapter.supports(c) for c in ("LOAD", "SET", "START", "STOP", "PAUSE"))
            with pytest.raises(CommandUnsupported, match="control=1"):
                adapter.command("SET", 50)
        finally:
            adapter.close()


def test_a_unit_that_ignores_the_other_layout_times_out_clearly() -> None:
    with MagProProcess("--protocol", "none", "--speed", "10", "--layout", "a",
                       control=True, layout="b") as sim:
        adapter = from_url(sim.url)
        adapter.open()
        try:
            with pytest.raises(Exception, match="did not confirm"):
                adapter.command("LOAD", "10 Hz", 10.0, 20, 2, 1.0, 1, timeout=1.0)
        finally:
            adapter.close()


def test_train_values_follow_the_ranges_public_clients_allow() -> None:
    from devices.magventure.control import train_values

    assert train_values(10.0, 40, 75, 26.0, 1) == (100, 40, 75, 260)  # the 10 Hz preset
    assert train_values(0.5, 1000, 1, 0.1, 1) == (5, 1000, 1, 1)
    for args, words in (((10.5, 40, 1, 1.0, 1), "whole hertz"), ((10, 150, 1, 1.0, 1), "1-100 or 1000"),
                        ((10, 40, 501, 1.0, 1), "1-500"), ((10, 40, 1, 0.0, 1), "0.1-120 s"),
                        ((5, 30, 20, 8.0, 3), "theta-burst")):
        with pytest.raises(ValueError, match=words):
            train_values(*args)
