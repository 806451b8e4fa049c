"""Device -> pty -> SerialAdapter -> events: frames per second sustained, none lost.

Goal: >= 40,000 frames/s with no frame rejected or missing. Two figures:

- ``sim``: the simulator (``python -m devices.sim``) at ×1000 with 250 Hz
  poses, read through the adapter exactly as the console reads it; skipped
  when the simulator is not there.
- ``feeder``: a separate process writes pre-encoded frames into the pty
  master as fast as the line takes them (the pty's small buffer makes it wait
  for the reader, so this measures the adapter, not the producer).

Each is measured from the first event to the last one the consumer took.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tty
from pathlib import Path

from devices import events as ev
from devices.serial_adapter import SerialAdapter

GOAL = 40_000
ROOT = Path(__file__).resolve().parent.parent
FEEDER_FRAMES = 300_000

FEEDER = r"""
import os, select, sys
from bench.bench_decode import make_stream
master, n = int(sys.argv[1]), int(sys.argv[2])
data = memoryview(make_stream(n))
buf = b""
while b"ID?" not in buf:               # a device speaks when asked: after the adapter opened
    buf += os.read(master, 4096)
while data:
    r, w, _ = select.select([master], [master], [])
    if r:
        os.read(master, 4096)          # PINGs: read, never answered
    if w:
        data = data[os.write(master, data[:16384]):]
sys.stdout.write("done\n"); sys.stdout.flush()
sys.stdin.read()                       # keep the pty open until the bench has read everything
"""


def consume(adapter: SerialAdapter, want: int, timeout: float = 120.0) -> tuple[int, float, float]:
    """Take events until ``want`` frames of data arrived; (count, first host_t, last host_t)."""
    count = 0
    first = last = 0.0
    deadline = time.monotonic() + timeout
    while count < want and time.monotonic() < deadline:
        for event in adapter.events(idle_timeout=1.0):
            if type(event) is ev.Hello or type(event) is ev.DeviceLost:
                continue
            if not count:
                first = time.monotonic()
            count += 1
            if count >= want:
                break
        last = time.monotonic()
    return count, first, last


def bench_feeder(n: int = FEEDER_FRAMES) -> dict:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    feeder = subprocess.Popen(
        [sys.executable, "-c", FEEDER, str(master), str(n)], cwd=ROOT, pass_fds=(master,),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    adapter = SerialAdapter(path, silence_timeout=30.0, hello_timeout=0.0)
    try:
        adapter.open()
        cpu = time.process_time()
        count, first, last = consume(adapter, n)
        cpu = time.process_time() - cpu
        counters = adapter.counters()
    finally:
        adapter.close()
        feeder.communicate("", timeout=30)
        os.close(master)
        os.close(slave)
    rate = count / (last - first) if last > first else 0.0
    lost = n - count
    print(f"pty feeder: {rate:,.0f} frames/s over {count:,} frames; rejected {counters.rejected}, "
          f"missing {counters.missing}, not arrived {lost} (goal {GOAL:,}, none lost); "
          f"reader+consumer CPU {cpu / max(count, 1) * 1e6:.1f} us/frame")
    return {
        "frames": count, "frames_per_s": round(rate), "cpu_us_per_frame": round(cpu / max(count, 1) * 1e6, 2),
        "rejected": counters.rejected,
        "missing": counters.missing, "not_arrived": lost,
        "ok": rate >= GOAL and lost == 0 and counters.rejected == 0 and counters.missing == 0,
    }


def bench_simulator() -> dict | None:
    """The real simulator at full speed; None when it is not installed here."""
    try:
        from devices.sim.process import SimulatorProcess
    except ImportError:
        print("simulator: not available, skipped")
        return None
    with SimulatorProcess("10hz", speed=1000, pose_hz=250, seed=7, autostart=True) as sim:
        adapter = SerialAdapter(sim.port, silence_timeout=30.0)
        received = pulses = 0
        first = last = 0.0
        try:
            adapter.open()
            cpu = time.process_time()
            deadline = time.monotonic() + 300
            done = False
            while not done and time.monotonic() < deadline:
                for event in adapter.events(idle_timeout=1.0):
                    if not received:
                        first = time.monotonic()
                    received += 1
                    kind = type(event)
                    if kind is ev.Pulse:
                        pulses += 1
                    elif kind is ev.EndOfSession:
                        done = True
                        break
                last = time.monotonic()
            cpu = time.process_time() - cpu
            counters = adapter.counters()
        finally:
            adapter.close()
    rate = counters.received / (last - first) if last > first else 0.0
    print(f"simulator 10hz x1000, 250 Hz pose: {rate:,.0f} frames/s over {counters.received:,} frames, "
          f"{pulses} pulses; rejected {counters.rejected}, missing {counters.missing}; "
          f"reader+consumer CPU {cpu / max(counters.received, 1) * 1e6:.1f} us/frame")
    return {
        "frames": counters.received, "frames_per_s": round(rate), "pulses": pulses,
        "cpu_us_per_frame": round(cpu / max(counters.received, 1) * 1e6, 2),
        "rejected": counters.rejected, "missing": counters.missing,
        "ok": pulses == 3000 and counters.rejected == 0 and counters.missing == 0,
    }


def main() -> dict:
    figures: dict = {"goal": GOAL, "feeder": bench_feeder()}
    sim = bench_simulator()
    if sim is not None:
        figures["simulator"] = sim
    figures["ok"] = all(f["ok"] for f in (figures["feeder"], sim) if f is not None)
    return figures
