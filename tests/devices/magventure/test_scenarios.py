"""The simulator's vendor scenarios, recorded through the adapter: garbage counted exactly, the
amplitude turned up on the front panel mid-session, the coil heating, the coil unplugged."""

from __future__ import annotations

import time
from pathlib import Path

from devices import events as ev
from devices.magventure.adapter import from_url
from devices.magventure.sim.process import MagProProcess

from .support import collect, collect_for, drain, fault_log, of, pulses


def test_garbage_front_panel_drift_and_coil_unplugged(tmp_path: Path) -> None:
    log = tmp_path / "faults.jsonl"
    args: list[str | Path] = ["--protocol", "dash", "--speed", "200", "--autostart", "--fault-log", log,
                              "--mso", "60"]
    for name in ("garbage", "front-panel", "drift", "coil-unplugged"):
        args += ["--scenario", name]
    with MagProProcess(*args) as sim:
        adapter = from_url(sim.url)
        adapter.open()
        try:
            events = collect(adapter, lambda evs: any(isinstance(e, ev.Cleared) for e in evs), timeout=60)
            events += collect_for(adapter, 1.5)  # a status poll after the last garbage
            # The unit logs a piece of garbage as it sends it: on a loaded machine the last piece
            # may still be on the line. Read on until what was received matches what was sent.
            deadline = time.monotonic() + 20
            while (adapter.counters().rejected != sum(r["rejected"] for r in fault_log(log))
                   and time.monotonic() < deadline):
                events += collect_for(adapter, 0.05)
        finally:
            adapter.close()
        events += drain(adapter)
    records = fault_log(log)

    # garbage: each piece the unit's line carried is one rejected piece, never a value
    garbage = [r for r in records if r["kind"] == "garbage"]
    assert len(garbage) > 10
    counters = adapter.counters()
    assert counters.rejected == sum(r["rejected"] for r in records)
    assert counters.missing == 0

    # the front panel: the amplitude change is an Intensity, and the pulses after it carry it
    panel = [r for r in records if r["kind"] == "front_panel"]
    assert [r["mso"] for r in panel] == [63]
    assert [i.mso for i in of(events, ev.Intensity)] == [63]
    msos = [p.mso for p in pulses(events)]
    assert msos == sorted(msos) and set(msos) == {60, 63}

    # drift: the coil warms over the session, as the status poll reports it
    temps = [s.coil_temp_c for s in of(events, ev.Status) if s.coil_temp_c is not None]
    assert temps[-1] >= temps[0] + 10

    # coil unplugged: a fault naming it, the run stops, and it clears when the coil is back
    faults = of(events, ev.Fault)
    assert [f.code for f in faults] == ["COIL_DISCONNECTED"]
    assert [c.code for c in of(events, ev.Cleared)] == ["COIL_DISCONNECTED"]
    assert any(s.state == "FAULT" and s.coil_id == "unrecognised coil or MRi-B91 (type 0)"
               for s in of(events, ev.Status))
    trains = of(events, ev.Train)
    assert trains[-1].phase == "END"
    counts = [p.count for p in pulses(events)]
    assert counts == list(range(1, len(counts) + 1))
