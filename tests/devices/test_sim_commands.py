"""Talking to the simulated device through the real pty (and TCP): commands, replies, start and stop.

What a host relies on: ID? and PING always answered, every command ACKed or
NAKed with the right reason, a recording-only device that refuses commands,
the same device on TCP, ``main.py simulate`` printing its port first, and a
clean exit on SIGTERM that leaves no link behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from devices.sim.process import SimulatorError, SimulatorProcess
from tests.devices.sim_support import Host

ROOT = Path(__file__).resolve().parent.parent.parent


def test_commands_are_acknowledged_or_refused_with_the_reason() -> None:
    with SimulatorProcess("itbs", speed=50) as sim, Host(sim.port) as host:
        hello = host.read_until(lambda f: f.type == "HELLO").value
        assert (hello.proto, hello.model) == ("TSCP/1", "SIM-1")
        proto = host.read_until(lambda f: f.type == "PROTO").value  # the preset, loaded at start-up
        assert (proto.name, proto.burst, proto.planned_pulses) == ("iTBS left DLPFC", 3, 600)
        last_t = host.read_until(lambda f: f.type == "STAT").value.device_t
        assert host.of_type("STAT")[-1].value.state == "ARMED"

        pong = host.reply_to("PING")
        assert pong.value.device_t >= last_t
        assert host.reply_to("ID?").type == "HELLO"
        assert host.reply_to("SET", 150).fields == ["SET", "BAD_VALUE"]
        assert host.reply_to("SET", 70).type == "ACK"
        assert host.read_until(lambda f: f.type == "INT").value.mso == 70
        assert host.reply_to("PAUSE").fields == ["PAUSE", "BAD_STATE"]
        assert host.reply_to("LOAD", "odd", 10, 40, 75, 26, 2).fields == ["LOAD", "BAD_VALUE"]
        assert host.reply_to("LOAD", "10 Hz short", 10, 10, 3, 1, 1).type == "ACK"
        loaded = host.read_until(lambda f: f.type == "PROTO").value
        assert (loaded.name, loaded.freq_hz, loaded.pulses_per_train) == ("10 Hz short", 10, 10)

        assert host.reply_to("START").type == "ACK"
        first = host.read_until(lambda f: f.type == "PULSE").value
        assert (first.count, first.mso) == (1, 70)
        assert host.reply_to("START").fields == ["START", "BAD_STATE"]
        assert host.reply_to("LOAD", "x", 1, 1, 1, 0, 1).fields == ["LOAD", "BAD_STATE"]
        assert host.reply_to("PAUSE").type == "ACK"
        host.read_until(lambda f: f.type == "STAT" and f.value.state == "PAUSED")
        assert host.reply_to("RESUME").type == "ACK"
        host.read_until(lambda f: f.type == "STAT" and f.value.state == "RUNNING")
        assert host.reply_to("STOP").type == "ACK"
        eos = host.read_until(lambda f: f.type == "EOS").value
        assert eos.reason == "STOPPED" and eos.pulses == host.of_type("PULSE")[-1].value.count
        assert host.reply_to("START").fields == ["START", "BAD_STATE"]  # nothing loaded any more
        host.read_until(lambda f: f.type == "STAT" and f.value.state == "IDLE")
        assert (host.receiver.rejected, host.receiver.missing) == (0, 0)


def test_a_device_with_nothing_loaded_waits_in_idle() -> None:
    with SimulatorProcess("none", speed=100) as sim, Host(sim.port) as host:
        assert host.read_until(lambda f: f.type == "STAT").value.state == "IDLE"
        assert host.reply_to("START").fields == ["START", "BAD_STATE"]
        assert not host.of_type("PROTO")


def test_a_recording_only_device_refuses_commands_and_runs_by_itself() -> None:
    with SimulatorProcess("itbs", speed=200, no_commands=True) as sim, Host(sim.port) as host:
        for cmd, args in (("SET", (50,)), ("START", ()), ("LOAD", ("x", 1, 1, 1, 0, 1)), ("STOP", ())):
            assert host.reply_to(cmd, *args).fields == [cmd, "UNSUPPORTED"]
        assert host.reply_to("PING").type == "PONG"
        assert host.reply_to("ID?").type == "HELLO"
        host.read_until(lambda f: f.type == "PULSE")
        assert host.of_type("PULSE")[0].value.count == 1


def test_the_same_device_serves_tcp() -> None:
    with SimulatorProcess("itbs", speed=1000, tcp_port=0, autostart=True, exit_after_eos=True) as sim:
        assert sim.port.startswith("socket://127.0.0.1:") and sim.url == "tscp+" + sim.port
        with Host(sim.port) as host:
            eos = host.read_until(lambda f: f.type == "EOS").value
        assert sim.wait(30) == 0
    assert eos.pulses == 600 and len(host.of_type("PULSE")) == 600
    assert (host.receiver.rejected, host.receiver.missing) == (0, 0)


def test_main_simulate_prints_its_port_first_and_exits_after_eos(tmp_path: Path) -> None:
    link = tmp_path / "ttyTMS"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "simulate", "--protocol", "itbs", "--speed", "1000",
         "--autostart", "--exit-after-eos", "--link", str(link)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().decode() == f"PORT {link}\n"
        assert link.is_symlink() and os.readlink(link).startswith("/dev/pts/")
        with Host(str(link)) as host:
            assert host.read_until(lambda f: f.type == "EOS").value.pulses == 600
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert not link.exists()


def test_sigterm_ends_the_simulator_cleanly_and_removes_its_link(tmp_path: Path) -> None:
    link = tmp_path / "ttyTMS"
    sim = SimulatorProcess("10hz", link=link).start()
    try:
        assert link.is_symlink()
        with Host(sim.port) as host:
            host.read_until(lambda f: f.type == "STAT")
            os.kill(sim.pid, signal.SIGTERM)
            assert sim.wait(10) == 0
    finally:
        sim.stop()
        sim.stop()  # idempotent
    assert not link.exists()


def test_bad_options_fail_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(SimulatorError, match="--speed must be between 1 and 1000"):
        SimulatorProcess("itbs", speed=5000).start()
    with pytest.raises(SimulatorError, match="unknown protocol preset 'nope'"):
        SimulatorProcess("nope").start()
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "simulate", "--pose-hz", "1000"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        "simulate: error: --pose-hz must be between 1 and 250, got 1000"]
