"""How fast the simulated device can talk: ``python -m bench sim``.

- ``generate``: frames per second the device model and link produce on one
  core (a 250 Hz pose stream, iTBS pulses, CRCs), no port involved;
- ``pty``: the simulator process at x1000 with 250 Hz poses, read off its pty
  by a bare pyserial loop that only counts lines: what the device delivers
  when the reader is not the limit (it asks for about 251,000 frames/s).

Goal: the device must never be what holds the 40,000 frames/s end-to-end
target back, so both figures should stay well above it (>= 100,000).
"""

from __future__ import annotations

import time

import serial

from devices.sim.config import SimConfig
from devices.sim.faultlog import FaultLog
from devices.sim.link import FrameLink
from devices.sim.model import SimDevice
from devices.sim.plan import load_presets
from devices.sim.process import SimulatorProcess
from devices.sim.settings import load_settings

GOAL = 100_000


def bench_generate(device_s: int = 600) -> float:
    dev = SimDevice(SimConfig(protocol=load_presets()["itbs"], pose_hz=250, autostart=True), load_settings())
    link = FrameLink(FaultLog(None))
    frames = 0
    start = time.perf_counter()
    while dev.now < device_s * 1000:
        outs = dev.advance(dev.now + 1000)
        link.encode(outs)
        frames += len(outs)
    return frames / (time.perf_counter() - start)


def bench_pty() -> tuple[float, int]:
    with SimulatorProcess("10hz", speed=1000, pose_hz=250, autostart=True, exit_after_eos=True) as sim:
        ser = serial.Serial(sim.port, timeout=0.2)
        try:
            ser.write(b"\r\n")  # any byte: the device takes the host as ready
            frames = 0
            start = time.perf_counter()
            tail = b""
            while True:
                data = ser.read(ser.in_waiting or 1)
                frames += data.count(b"\n")
                if b",EOS," in tail + data:
                    break
                tail = data[-16:]
            elapsed = time.perf_counter() - start
        finally:
            ser.close()
    return frames / elapsed, frames


def main() -> dict:
    gen = bench_generate()
    print(f"generate: {gen:,.0f} frames/s on one core (iTBS, 250 Hz poses)")
    pty_rate, frames = bench_pty()
    print(f"pty: {pty_rate:,.0f} frames/s over {frames:,} frames (10 Hz run, x1000, 250 Hz poses)")
    return {"generate_frames_per_s": round(gen), "pty_frames_per_s": round(pty_rate), "pty_frames": frames,
            "ok": gen >= GOAL and pty_rate >= GOAL}
