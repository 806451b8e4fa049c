"""Issue 16: capture and replay work for a vendor's stream as for TSCP. A MagPro session captured
by its adapter (``?capture=FILE``) plays back through ``replay://FILE`` - the address a clinic
types - with the same events and counts as the live link; a capture naming an unknown vendor is
refused in one sentence, before a session is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices import events as ev
from devices.adapter import DeviceError
from devices.magventure.sim.process import MagProProcess
from devices.registry import create_adapter
from tests.devices.magventure.support import collect, drain, n_pulses


def _device_events(events: list[ev.DeviceEvent]) -> list[tuple]:
    """What a session keeps of each event (the host's clock is the replay's own)."""
    return [(type(e).__name__, *e[2:]) for e in events]


def test_a_magventure_capture_replays_through_the_replay_address(tmp_path: Path) -> None:
    capture = tmp_path / "magpro.cap"
    with MagProProcess("--protocol", "itbs", "--speed", "200", "--autostart", "--mso", "55") as sim:
        live = create_adapter(f"{sim.url}&capture={capture}")
        live.open()
        try:
            events = collect(live, n_pulses(600), timeout=120)
        finally:
            live.close()
        events += drain(live)
    counters = live.counters()

    replay = create_adapter(f"replay://{capture}")
    replay.open()
    try:
        played = list(replay.events(idle_timeout=0.0))
        while not replay.exhausted:
            played += list(replay.events(idle_timeout=0.0))
    finally:
        replay.close()
    assert replay.identity is not None and replay.identity.vendor == "MagVenture"
    assert _device_events(played) == _device_events(events)
    assert sum(isinstance(e, ev.Pulse) for e in played) == 600
    assert replay.counters()[:3] == counters[:3]


def test_a_capture_of_an_unknown_kind_of_device_is_refused_in_words(tmp_path: Path) -> None:
    odd = tmp_path / "odd.cap"
    odd.write_bytes(b"TMSCAP1 acme\n\x00\x01\x02")
    adapter = create_adapter(f"replay://{odd}")
    with pytest.raises(DeviceError, match="unknown kind of device"):
        adapter.open()
