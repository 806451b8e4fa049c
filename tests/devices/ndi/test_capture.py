"""A capture of a live NDI session replays to the same events and counts (garbage included)."""

from __future__ import annotations

from pathlib import Path

from devices import events as ev
from devices.ndi.adapter import from_url
from devices.ndi.capture import HEADER, CaptureReader, read_capture
from devices.ndi.sim.process import NdiProcess

from .support import collect, poses, rom_query, until_device_ms


def test_a_capture_replays_to_the_same_events(tmp_path: Path) -> None:
    capture = tmp_path / "session.ndicap"
    with NdiProcess("--speed", "5", "--scenario", "garbage", "--scenario", "out-of-view") as sim:
        adapter = from_url(sim.url(rom_query(tmp_path, f"capture={capture}")))
        adapter.open()
        try:
            live = collect(adapter, until_device_ms(9_000), timeout=60)
        finally:
            adapter.close()
        live += list(adapter.events(idle_timeout=0.0))
    counters = adapter.counters()
    assert capture.read_bytes().startswith(HEADER) and capture.stat().st_mode & 0o077 == 0
    replayed, reader = read_capture(capture)
    assert replayed == live
    assert (reader.received, reader.rejected) == (counters.received, counters.rejected)
    assert list(reader.rejected_lines) == list(counters.rejected_lines)
    assert any(not p.visible for p in poses(replayed)) and isinstance(replayed[0], ev.Hello)
    # any split of the file gives the same events
    data = capture.read_bytes()[len(HEADER):]
    pieces = CaptureReader()
    again = [e for i in range(0, len(data), 97) for e in pieces.feed(data[i:i + 97])]
    assert again == live
