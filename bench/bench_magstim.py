"""Magstim: the codec's decode rate, and the CPU the adapter takes recording a session at real pace.

- ``frames_per_s``: replies decoded per second by :class:`devices.magstim.codec.Receiver`, one
  exchange each (the command noted, the reply fed), over a realistic mix of parameter polls,
  temperature polls, keep-alives and fires. A 9600-baud line carries at most ~100 replies a
  second, so anything above 10,000/s leaves the codec invisible.
- ``cpu_share``: process CPU time / wall time of this process while the adapter (control=1)
  runs a 10 Hz protocol against the simulator at ``--speed 1`` for ~10 s (a 4 s train, the
  rest, polls and keep-alives), the events taken by a consumer as the console takes them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from devices import events as ev
from devices.magstim.adapter import from_url
from devices.magstim.codec import Receiver, checksum, encode
from devices.magstim.rules import Unit

ROOT = Path(__file__).resolve().parent.parent
GOAL_FRAMES = 10_000
GOAL_CPU = 0.05
UNLOCK = "1234-12345678-ab"


def _framed(body: bytes) -> bytes:
    return body + bytes([checksum(body)])


def decode_rate(n: int = 200_000) -> float:
    unit = Unit("rapid", (9, 4, 0))
    mix = [
        (encode("\\"), _framed(b"\\\x8c\x30" + b"060" + b"0100" + b"00040" + b"0040" + b"0005")),
        (encode("F"), _framed(b"F\x8c" + b"312309")),
        (encode("x"), _framed(b"x\x8c\x30\x00\x00")),
        (encode("@", "060"), _framed(b"@\x8c")),
    ]
    best = 0.0
    for _ in range(3):
        receiver = Receiver(unit)
        start = time.perf_counter()
        t = 0.0
        for i in range(n):
            command, reply = mix[i % len(mix)]
            t += 0.001
            receiver.sent(command, t)
            receiver.feed(reply, t)
        elapsed = time.perf_counter() - start
        assert receiver.received == n and receiver.rejected == 0
        best = max(best, n / elapsed)
    return best


def cpu_share(seconds: float = 10.0) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sim = subprocess.Popen([sys.executable, "-m", "devices.magstim.sim", "--unlock", UNLOCK, "--mso", "50",
                            "--exit-with-stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    try:
        assert sim.stdout is not None
        port = sim.stdout.readline().decode().split(" ", 1)[1].strip()
        adapter = from_url(f"magstim+serial://{port}?model=rapid&unlock={UNLOCK}&control=1")
        events = pulses = 0
        with adapter:
            adapter.command("LOAD", "10 Hz", 10.0, 40, 75, 26.0, 1)
            adapter.command("START")
            cpu0, wall0 = time.process_time(), time.monotonic()
            while time.monotonic() - wall0 < seconds:
                for event in adapter.events(idle_timeout=0.2):
                    events += 1
                    pulses += isinstance(event, ev.Pulse)
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            adapter.command("STOP")
    finally:
        if sim.stdin is not None:
            sim.stdin.close()
        sim.wait(10)
        if sim.stdout is not None:
            sim.stdout.close()
    return {"cpu_share": round(cpu / wall, 4), "events": events, "pulses": pulses, "seconds": round(wall, 1)}


def main() -> dict:
    rate = decode_rate()
    print(f"magstim decode: {rate:,.0f} replies/s (goal {GOAL_FRAMES:,})")
    real = cpu_share()
    print(f"magstim adapter at real pace: CPU {real['cpu_share']:.1%} of one core over {real['seconds']} s "
          f"({real['pulses']} pulses, {real['events']} events; goal < {GOAL_CPU:.0%})")
    return {"frames_per_s": round(rate), "goal_frames_per_s": GOAL_FRAMES, **real, "goal_cpu_share": GOAL_CPU,
            "ok": rate >= GOAL_FRAMES and real["cpu_share"] < GOAL_CPU}
