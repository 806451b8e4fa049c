"""MagVenture MagPro: codec decode rate (frames/s, one core) and the CPU share of recording a
simulated MagPro at real pace through the adapter on a pty (process CPU time / wall time).

The line runs at 38400 baud, at most ~480 frames/s of di/dt packets (8 bytes each), so the decode
goal is far above what a unit can send; the CPU goal is that recording one stimulator costs the
console next to nothing.
"""

from __future__ import annotations

import time

from devices.magventure.codec import Receiver
from devices.magventure.frames import encode_frame
from devices.magventure.sim.process import MagProProcess

DECODE_GOAL = 50_000
CPU_GOAL = 0.05
RECORD_S = 10.0
SB = (3 << 5) | 0x10 | (1 << 2)


def make_stream(n: int) -> bytes:
    """A session's mix: di/dt packets, a train start/stop per 40 pulses, a long status now and then."""
    out = []
    for i in range(n):
        if i % 50 == 0:
            out.append(encode_frame(bytes((0x05, SB, 0, 0xC8, 0x22, 31, 72, 60, 0, 60, 0, 100, 100, 2, 1))))
        elif i % 41 == 0:
            out.append(encode_frame(bytes((0x08, 2, (i // 41) % 2, SB))))
        else:
            out.append(encode_frame(bytes((0x02, 96 + i % 3, 0, SB))))
    return b"".join(out)


def decode_rate(n: int = 200_000) -> float:
    data = make_stream(n)
    best = 0.0
    for _ in range(3):
        receiver = Receiver()
        start = time.perf_counter()
        for i in range(0, len(data), 4096):
            receiver.feed(data[i:i + 4096], 1.0)
        elapsed = time.perf_counter() - start
        assert receiver.received == n and receiver.rejected == 0
        best = max(best, n / elapsed)
    return best


def record_share(seconds: float = RECORD_S) -> tuple[float, int]:
    """CPU share of this process (adapter reader thread + consumer) while recording iTBS at speed 1."""
    from devices.magventure.adapter import from_url

    with MagProProcess("--protocol", "itbs", "--speed", "1", "--autostart") as sim:
        adapter = from_url(sim.url)
        adapter.open()
        events = 0
        try:
            cpu, wall = time.process_time(), time.monotonic()
            deadline = wall + seconds
            while time.monotonic() < deadline:
                for _ in adapter.events(idle_timeout=0.2):
                    events += 1
            cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        finally:
            adapter.close()
    return cpu / wall, events


def main() -> dict:
    rate = decode_rate()
    share, events = record_share()
    print(f"magventure decode: {rate:,.0f} frames/s (goal {DECODE_GOAL:,})")
    print(f"magventure recording at real pace: CPU {share:.2%} of one core over {RECORD_S:g} s, "
          f"{events} events (goal < {CPU_GOAL:.0%})")
    return {"frames_per_s": round(rate), "decode_goal": DECODE_GOAL, "cpu_share": round(share, 4),
            "cpu_goal": CPU_GOAL, "events": events,
            "ok": rate >= DECODE_GOAL and share < CPU_GOAL}


if __name__ == "__main__":
    main()
