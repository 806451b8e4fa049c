"""The link: addresses checked, a Navigator that does not answer (or is not there) is a clear
error within 3 s, and a connection that drops or falls silent is DeviceLost then DeviceRestored
on a new connection."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from devices import events as ev
from devices.adapter import DeviceError
from devices.localite.adapter import from_url
from devices.localite.capture import read_capture
from devices.localite.sim.process import NavigatorProcess

from ..magventure.support import collect, drain, fault_log


def test_bad_addresses_are_refused_with_the_option_named() -> None:
    with pytest.raises(DeviceError, match="Unknown option 'coill'"):
        from_url("localite+tcp://10.0.0.5:6666?coill=1")
    with pytest.raises(DeviceError, match="coil='2'"):
        from_url("localite+tcp://10.0.0.5:6666?coil=2")
    with pytest.raises(DeviceError, match="poll_hz='500'"):
        from_url("localite+tcp://10.0.0.5:6666?poll_hz=500")
    with pytest.raises(DeviceError, match="names no Navigator PC"):
        from_url("localite+tcp://")
    with pytest.raises(DeviceError, match="port in"):
        from_url("localite+tcp://10.0.0.5:66666")
    adapter = from_url("localite+tcp://navigator.local?coil=1&poll_hz=5")
    assert (adapter.where, adapter.coil) == ("navigator.local:6666", 1)


def test_a_navigator_that_accepts_but_never_answers_is_a_clear_error_within_3_s() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        adapter = from_url(f"localite+tcp://127.0.0.1:{port}")
        started = time.monotonic()
        with pytest.raises(DeviceError, match=r"did not answer within 2.5 s.*JSON interface"):
            adapter.open()
        assert time.monotonic() - started < 3.0


def test_nothing_listening_is_a_clear_error_at_once() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]  # closed again below: nothing listens there any more
    started = time.monotonic()
    refused = r"Cannot connect to TMS Navigator at 127.0.0.1:\d+: connection refused"
    with pytest.raises(DeviceError, match=refused):
        from_url(f"localite+tcp://127.0.0.1:{port}").open()
    assert time.monotonic() - started < 3.0


def test_navigator_restarting_is_lost_then_restored_on_a_new_connection(tmp_path: Path) -> None:
    log = tmp_path / "faults.jsonl"
    with NavigatorProcess("--speed", "4", "--scenario", "drop", "--fault-log", log) as sim:
        adapter = from_url(sim.url)
        adapter.open()
        try:
            events = collect(adapter, lambda evs: any(isinstance(e, ev.DeviceRestored) for e in evs),
                             timeout=30)
            events += collect(adapter, lambda evs: sum(isinstance(e, ev.Pose) and e.visible
                                                       for e in evs) >= 3, timeout=10)
        finally:
            adapter.close()
    kinds = [type(e).__name__ for e in events if isinstance(e, ev.DeviceLost | ev.DeviceRestored)]
    assert kinds == ["DeviceLost", "DeviceRestored"]
    lost = next(e for e in events if isinstance(e, ev.DeviceLost))
    assert lost.reason in ("TMS Navigator closed the connection", "TMS Navigator reset the connection")
    assert [r["kind"] for r in fault_log(log)] == ["drop"]
    after = events[events.index(lost):]
    assert any(isinstance(e, ev.Pose) and e.visible for e in after)  # poses again after the restart
    assert adapter.counters().rejected == 0


def test_a_navigator_that_falls_silent_is_lost_and_restored_when_it_answers_again() -> None:
    with NavigatorProcess("--speed", "1") as sim:
        adapter = from_url(sim.url)
        adapter.open()
        try:
            os.kill(sim.pid, signal.SIGSTOP)  # the Navigator PC hangs; the connection stays
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
    assert reason == "no answer from TMS Navigator for 3 s"
    assert any(isinstance(e, ev.DeviceRestored) for e in back)


def test_a_navigator_that_closes_each_answered_connection_still_gives_every_pose(tmp_path: Path) -> None:
    capture = tmp_path / "per-message.loccap"
    with NavigatorProcess("--speed", "1", "--scenario", "close-after-answer") as sim:
        adapter = from_url(f"{sim.url}?capture={capture}")
        adapter.open()
        try:
            events = collect(adapter, lambda evs: sum(isinstance(e, ev.Pose) and e.visible
                                                       for e in evs) >= 15, timeout=30)
        finally:
            adapter.close()
        events += drain(adapter)
    assert not [e for e in events if isinstance(e, ev.DeviceLost)]  # no alarm for Navigator's way
    assert adapter.reconnects >= 10
    assert adapter.counters().rejected == 0
    replayed, _reader = read_capture(capture)
    assert replayed == events


def test_a_session_with_a_lost_connection_replays_to_the_same_events_and_counts(tmp_path: Path) -> None:
    capture = tmp_path / "drop.loccap"
    with NavigatorProcess("--speed", "4", "--scenario", "drop", "--scenario", "garbage") as sim:
        adapter = from_url(f"{sim.url}?capture={capture}")
        adapter.open()
        try:
            events = collect(adapter, lambda evs: any(isinstance(e, ev.DeviceRestored) for e in evs),
                             timeout=30)
        finally:
            adapter.close()
        events += drain(adapter)
    replayed, reader = read_capture(capture)
    # the loss and the restoration are the adapter's own events; everything Navigator sent replays
    assert replayed == [e for e in events if not isinstance(e, ev.DeviceLost | ev.DeviceRestored)]
    assert (reader.received, reader.rejected) == adapter.counters()[:2]
