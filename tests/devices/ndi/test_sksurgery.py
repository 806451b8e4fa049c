"""Public client code as a peer: scikit-surgerynditracker (over the ndicapi C library) reads frames
from the simulated tracker through a pty, BX or TX as it picks by firmware, Polaris (ROM files) or
Aurora (wired tools): probe, connect, start tracking, frames with both tools' poses, stop, close.
Its bytes must be valid framing: the simulator refuses nothing but the GETINFO it answers ERROR01
on purpose (ndicapi then takes its VER path)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from devices.ndi.headframe import coil_in_head
from devices.ndi.sim.process import NdiProcess
from devices.sim.settings import load_settings

from .support import fault_log, rom_files

nditracker = pytest.importorskip("sksurgerynditracker.nditracker")


def frames(config: dict, n: int = 5) -> list[tuple]:
    tracker = nditracker.NDITracker(config)
    try:
        tracker.start_tracking()
        got = [tracker.get_frame() for _ in range(n)]
        tracker.stop_tracking()
    finally:
        tracker.close()
    return got


def coil_in_head_frame(frame: tuple, coil: int, reference: int) -> tuple[float, ...]:
    handles, _times, _numbers, tracking, _quality = frame
    c, r = tracking[handles.index(coil)][0], tracking[handles.index(reference)][0]
    q, t = coil_in_head(tuple(c[0:4]), tuple(c[4:7]), tuple(r[0:4]), tuple(r[4:7]))
    return (*t, *q)


@pytest.mark.parametrize(("args", "kind"), [
    ((), "polaris"),
    (("--freeze-tag", "Polaris Spectra Rev 007"), "polaris"),  # scikit-surgery switches to TX
    (("--wired",), "aurora"),
])
def test_scikit_surgery_reads_both_tools_from_the_simulator(tmp_path: Path, args: tuple[str, ...],
                                                            kind: str) -> None:
    faults = tmp_path / "faults.jsonl"
    coil_rom, ref_rom = rom_files(tmp_path)
    config = {"tracker type": kind, "serial port": "", "use quaternions": True}
    if kind == "polaris":
        config["romfiles"] = [str(coil_rom), str(ref_rom)]
    with NdiProcess(*args, "--fault-log", faults) as sim:
        config["serial port"] = sim.port
        got = frames(config)
    target = load_settings().target
    coil, reference = (1, 2) if kind == "polaris" else (0x0A, 0x0B)
    for frame in got:
        assert sorted(frame[0]) == [coil, reference]
        assert all(q == q and 0.1 < q < 0.5 for q in frame[4])  # RMS error in mm, both tools
        x, y, z, qw, _qx, qy, _qz = coil_in_head_frame(frame, coil, reference)
        assert math.dist((x, y, z), (target.x, target.y, target.z)) < 1.0  # jitter 0.1 mm per axis
        assert abs(qw - target.qw) < 0.01 and abs(qy - target.qy) < 0.01
    numbers = [frame[2][0] for frame in got]
    assert numbers == sorted(numbers) and numbers[-1] > 0
    refused = [r for r in fault_log(faults) if r["kind"] in ("refused", "wrong_rate")]
    assert {r["command"][:7] for r in refused} <= {"GETINFO"}
