"""The NDI adapter against the simulated tracker on a real pty: set-up, poses at the target, a silent
unit within 3 s, refused set-ups in one sentence, TX and wired tools, the line rate honoured, and a
silent line as DeviceLost then DeviceRestored."""

from __future__ import annotations

import itertools
import os
import signal
import time
import tty
from pathlib import Path

import pytest
import serial

from devices import events as ev
from devices.adapter import DeviceError
from devices.ndi import wire
from devices.ndi.adapter import from_url
from devices.ndi.sim.process import NdiProcess
from devices.sim.settings import load_settings

from .support import collect, fault_log, of, poses, rom_query, until_device_ms


def near_target(pose: ev.Pose, tol_mm: float = 1.0) -> bool:
    t = load_settings().target
    assert pose.x is not None and pose.y is not None and pose.z is not None
    return max(abs(pose.x - t.x), abs(pose.y - t.y), abs(pose.z - t.z)) < tol_mm


def test_the_adapter_sets_up_the_tools_and_reads_the_coil_in_the_head_frame(tmp_path: Path) -> None:
    faults = tmp_path / "faults.jsonl"
    with NdiProcess("--fault-log", faults) as sim:
        adapter = from_url(sim.url(rom_query(tmp_path)))
        adapter.open()
        try:
            events = collect(adapter, lambda e: len(poses(e)) >= 60, timeout=30)
        finally:
            adapter.close()
    hello = of(events, ev.Hello)
    assert len(hello) == 1 and hello[0].serial == "P6-01234" and hello[0].vendor == "NDI"
    assert adapter.handles == (1, 2)
    ps = poses(events)
    assert all(p.visible and near_target(p) and 0.7 < p.quality < 0.9 for p in ps)
    steps = {b.device_t - a.device_t for a, b in itertools.pairwise(ps)}
    assert min(steps) >= 16  # 60 Hz frame numbers, each at most once
    assert adapter.counters().rejected == 0
    refused = [r for r in fault_log(faults) if r["kind"] in ("refused", "wrong_rate")]
    assert refused == []


def test_a_silent_unit_is_a_clear_error_within_3_s() -> None:
    master, slave = os.openpty()  # a port with nothing answering on it (wrong cable, unit off)
    try:
        tty.setraw(slave)
        adapter = from_url(f"ndi+serial://{os.ttyname(slave)}")
        started = time.monotonic()
        with pytest.raises(DeviceError, match=r"NDI tracker .* did not answer"):
            adapter.open()
        assert time.monotonic() - started < 3.0
        adapter.close()
    finally:
        os.close(slave)
        os.close(master)


def test_a_missing_port_is_a_clear_error() -> None:
    with pytest.raises(DeviceError, match="Cannot open /dev/nonexistent-ndi"):
        from_url("ndi+serial:///dev/nonexistent-ndi").open()


def test_bad_addresses_are_refused_in_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match="Unknown option 'rom'"):
        from_url("ndi+serial:///dev/ttyUSB0?rom=a.rom")
    with pytest.raises(DeviceError, match="reply='bz'"):
        from_url("ndi+serial:///dev/ttyUSB0?reply=bz")
    with pytest.raises(DeviceError, match="Name both ROM files"):
        from_url(f"ndi+serial:///dev/ttyUSB0?coil={tmp_path}/x.rom")
    with pytest.raises(DeviceError, match="Cannot read the coil tool's ROM file"):
        from_url(f"ndi+serial:///dev/ttyUSB0?coil={tmp_path}/x.rom&reference={tmp_path}/y.rom")
    (tmp_path / "big.rom").write_bytes(bytes(2000))
    with pytest.raises(DeviceError, match="has 2000 bytes"):
        from_url(f"ndi+serial:///dev/ttyUSB0?coil={tmp_path}/big.rom&reference={tmp_path}/big.rom")
    with pytest.raises(DeviceError, match="names no port"):
        from_url("ndi+serial://")


def test_a_tool_the_unit_cannot_initialise_is_the_units_error_in_words(tmp_path: Path) -> None:
    (tmp_path / "blank.rom").write_bytes(bytes(100))  # a ROM of zeros: no tool description
    (tmp_path / "ref.rom").write_bytes(b"HEAD-REF")
    with NdiProcess() as sim:
        adapter = from_url(sim.url(f"coil={tmp_path}/blank.rom&reference={tmp_path}/ref.rom"))
        with pytest.raises(DeviceError, match="could not initialise the coil tool: NDI error 0D"):
            adapter.open()


def test_tx_replies_and_wired_tools_give_the_same_poses(tmp_path: Path) -> None:
    with NdiProcess() as sim:
        adapter = from_url(sim.url(rom_query(tmp_path, "reply=tx")))
        with adapter:
            tx = poses(collect(adapter, lambda e: len(poses(e)) >= 20, timeout=30))
    with NdiProcess("--wired") as sim:
        adapter = from_url(sim.url())
        with adapter:
            wired = poses(collect(adapter, lambda e: len(poses(e)) >= 20, timeout=30))
        assert adapter.handles == (0x0A, 0x0B)
    assert all(p.visible and near_target(p) for p in tx + wired)


def test_a_unit_that_refuses_bx_is_lost_with_the_advice_to_use_tx(tmp_path: Path) -> None:
    with NdiProcess("--no-bx") as sim:
        adapter = from_url(sim.url(rom_query(tmp_path)))
        with adapter:
            (lost,) = of(collect(adapter, lambda e: bool(of(e, ev.DeviceLost)), timeout=30), ev.DeviceLost)
        assert "refuses BX (NDI error 01" in lost.reason and "reply=tx" in lost.reason
        adapter = from_url(sim.url(rom_query(tmp_path, "reply=tx")))
        with adapter:
            assert collect(adapter, lambda e: len(poses(e)) >= 5, timeout=30)


def test_the_simulator_answers_only_at_the_agreed_line_rate() -> None:
    with NdiProcess() as sim, serial.Serial(sim.port, 9600, timeout=0.5) as port:
        time.sleep(0.2)
        port.write(wire.command("INIT:"))
        assert port.read_until(b"\r") == b"OKAYA896\r"
        port.write(wire.command("COMM:50000"))
        assert port.read_until(b"\r") == b"OKAYA896\r"
        time.sleep(0.1)
        port.write(wire.command("VER:0"))  # still at 9600: the unit now listens at 115200
        assert port.read_until(b"\r") == b""
        port.baudrate = 115200  # the unit went back to 9600 when it heard 9600 (a break stand-in)
        port.write(wire.command("INIT:"))
        assert port.read_until(b"\r") == b""
        port.baudrate = 9600
        port.write(wire.command("INIT:"))
        assert port.read_until(b"\r") == b"OKAYA896\r"
        port.write(b"INIT:E3A6\r")  # a wrong CRC
        assert port.read_until(b"\r") == wire.text_reply("ERROR04")


def test_a_silent_line_is_lost_then_restored_after_a_new_setup(tmp_path: Path) -> None:
    with NdiProcess("--speed", "2") as sim:
        adapter = from_url(sim.url(rom_query(tmp_path)))
        adapter.open()
        try:
            collect(adapter, lambda e: len(poses(e)) >= 10, timeout=30)
            os.kill(sim.pid, signal.SIGSTOP)
            try:
                events = collect(adapter, lambda e: bool(of(e, ev.DeviceLost)), timeout=10)
            finally:
                os.kill(sim.pid, signal.SIGCONT)
            events += collect(adapter, lambda e: bool(of(e, ev.DeviceRestored))
                              and len(poses(e[e.index(of(e, ev.DeviceRestored)[0]):])) >= 5, timeout=30)
        finally:
            adapter.close()
    (lost,) = of(events, ev.DeviceLost)
    assert "no reply from the tracker" in lost.reason
    assert len(of(events, ev.DeviceRestored)) == 1 and len(of(events, ev.Hello)) == 0
    after = poses(events[events.index(of(events, ev.DeviceRestored)[0]):])
    assert all(p.visible and near_target(p) for p in after)
    assert until_device_ms(0)(events)
