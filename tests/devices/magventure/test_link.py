"""The link: a silent unit is a clear error within 3 s, TCP works, a pulled cable is DeviceLost
then DeviceRestored with the lost pulses counted from the unit's own count (layout b)."""

from __future__ import annotations

import os
import signal
import time
import tty
from pathlib import Path

import pytest

from devices import events as ev
from devices.adapter import DeviceError
from devices.magventure.adapter import from_url
from devices.magventure.sim.process import MagProProcess

from .support import collect, collect_for, drain, fault_log, n_pulses, pulses


def test_a_silent_unit_is_a_clear_error_within_3_s() -> None:
    master, slave = os.openpty()  # a port with nothing answering on it (wrong cable, unit off)
    try:
        tty.setraw(slave)
        path = os.ttyname(slave)
        adapter = from_url(f"magventure+serial://{path}")
        started = time.monotonic()
        with pytest.raises(DeviceError, match=r"did not answer.*COM2"):
            adapter.open()
        assert time.monotonic() - started < 3.0
        adapter.close()
    finally:
        os.close(slave)
        os.close(master)


def test_a_missing_port_is_a_clear_error() -> None:
    with pytest.raises(DeviceError, match="Cannot open /dev/nonexistent-magpro"):
        from_url("magventure+serial:///dev/nonexistent-magpro").open()


def test_bad_addresses_are_refused() -> None:
    with pytest.raises(DeviceError, match="Unknown option 'contrl'"):
        from_url("magventure+serial:///dev/ttyUSB0?contrl=1")
    with pytest.raises(DeviceError, match="layout='c'"):
        from_url("magventure+serial:///dev/ttyUSB0?layout=c")
    with pytest.raises(DeviceError, match="names no port"):
        from_url("magventure+serial://")


def test_the_tcp_simulator_answers_through_a_socket_address() -> None:
    with MagProProcess("--tcp", "0", "--protocol", "itbs", "--speed", "100", "--autostart") as sim:
        assert sim.port.startswith("socket://127.0.0.1:")
        adapter = from_url(f"magventure+serial://{sim.port}")
        adapter.open()
        try:
            events = collect(adapter, n_pulses(30), timeout=30)
        finally:
            adapter.close()
        assert adapter.identity is not None and adapter.identity.serial == "51234"
        assert [p.count for p in pulses(events)][:30] == list(range(1, 31))


def test_a_pulled_cable_is_lost_then_restored_and_its_pulses_counted_missing(tmp_path: Path) -> None:
    link = tmp_path / "magpro"
    log = tmp_path / "faults.jsonl"
    with MagProProcess("--protocol", "itbs", "--speed", "20", "--autostart", "--scenario", "unplug",
                       "--link", link, "--fault-log", log, layout="b") as sim:
        assert sim.port == str(link)
        adapter = from_url(sim.url)
        adapter.open()
        try:
            events = collect(adapter, lambda evs: any(isinstance(e, ev.DeviceRestored) for e in evs),
                             timeout=60)
            # the unit's count is polled each second; a gap counts once two replies show it
            events += collect_for(adapter, 3.5)
        finally:
            adapter.close()
        events += drain(adapter)
    kinds = [type(e).__name__ for e in events if isinstance(e, ev.DeviceLost | ev.DeviceRestored)]
    assert kinds == ["DeviceLost", "DeviceRestored"]
    records = fault_log(log)
    assert [r["kind"] for r in records if r["kind"] in ("unplug", "replug")] == ["unplug", "replug"]
    lost = sum(r.get("pulses_lost", 0) for r in records)
    assert lost > 0
    counts = [p.count for p in pulses(events)]
    assert len(counts) == len(set(counts)) and counts == sorted(counts)  # never twice, never back
    missing = adapter.counters().missing
    assert missing == lost
    # the jump in the count is exactly the pulses the line lost: none invented
    assert counts[-1] == len(counts) + missing


def test_a_unit_that_falls_silent_is_lost_and_restored_when_it_answers_again() -> None:
    with MagProProcess("--protocol", "10hz", "--speed", "1") as sim:
        adapter = from_url(sim.url)
        adapter.open()
        try:
            os.kill(sim.pid, signal.SIGSTOP)  # the unit stops answering; the port stays
            try:
                lost = collect(adapter, lambda evs: any(isinstance(e, ev.DeviceLost) for e in evs),
                               timeout=30)
            finally:
                os.kill(sim.pid, signal.SIGCONT)
            back = collect(adapter, lambda evs: any(isinstance(e, ev.DeviceRestored) for e in evs),
                           timeout=30)
        finally:
            adapter.close()
    reason = next(e for e in lost if isinstance(e, ev.DeviceLost)).reason
    assert "no answer from the stimulator for 3 s" in reason
    assert isinstance(back[0], ev.DeviceRestored)
