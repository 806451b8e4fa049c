"""NDI tracker: decode rate (BX replies/s, one core), the CPU share of recording a simulated Polaris
at real pace through the adapter on a pty, and the latency from a tracking reply leaving the
simulator to the adapter reading it (``Pose.host_t``) and to the consumer holding the event.

The simulator writes each tracking reply's frame number and send time (``time.monotonic()``, one
clock for every process on the machine) to a side file (``--send-log``); a pose's ``device_t`` is
``frame * 1000 / 60``, so each pose is matched to its reply exactly.

The adapter polls at 60 Hz (the camera's frame rate), so the decode goal is far above what a unit
can send; the CPU goal is that tracking costs the console next to nothing beside the stimulator.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from devices import events as ev
from devices.ndi import wire
from devices.ndi.codec import Receiver
from devices.ndi.sim.process import NdiProcess

DECODE_GOAL = 20_000
CPU_GOAL = 0.05
LATENCY_P99_GOAL_MS = 20.0
RECORD_S = 10.0


def make_stream(n: int) -> bytes:
    """``n`` BX replies of two tools (coil and reference), every 30th with the coil missing."""
    out = []
    for i in range(n):
        coil = wire.ToolRecord(1, 1, (0.9, 0.3, -0.2, 0.25), (-10.0, 20.0, -1300.0), 0.25, 0x31, i) \
            if i % 30 else wire.ToolRecord(1, 2, None, None, None, 0x31, i)
        ref = wire.ToolRecord(2, 1, (0.9239, 0.0, 0.3827, 0.0), (25.0, -40.0, -1350.0), 0.2, 0x31, i)
        out.append(wire.encode_bx(wire.Tracking((coil, ref), 0)))
    return b"".join(out)


def decode_rate(n: int = 50_000) -> float:
    data = make_stream(n)
    best = 0.0
    for _ in range(3):
        receiver = Receiver()
        receiver.assign(coil=1, reference=2)
        start = time.perf_counter()
        for i in range(0, len(data), 4096):
            receiver.feed(data[i:i + 4096], 1.0)
        elapsed = time.perf_counter() - start
        assert receiver.received == n and receiver.rejected == 0
        best = max(best, n / elapsed)
    return best


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def record(seconds: float = RECORD_S) -> dict:
    """CPU share of this process (reader thread + consumer) while tracking at speed 1, and latency."""
    from devices.ndi.adapter import from_url

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "coil.rom").write_bytes(b"TMS-COIL")
        (folder / "ref.rom").write_bytes(b"HEAD-REF")
        send_log = folder / "sent.tsv"
        received: list[tuple[int, float, float]] = []  # device_t, host_t, consumer time
        with NdiProcess("--send-log", send_log) as sim:
            adapter = from_url(sim.url(f"coil={folder}/coil.rom&reference={folder}/ref.rom"))
            adapter.open()
            try:
                cpu, wall = time.process_time(), time.monotonic()
                deadline = wall + seconds
                while time.monotonic() < deadline:
                    for event in adapter.events(idle_timeout=0.2):
                        if isinstance(event, ev.Pose):
                            received.append((event.device_t, event.host_t, time.monotonic()))
                        if time.monotonic() >= deadline:
                            break
                cpu, wall = time.process_time() - cpu, time.monotonic() - wall
            finally:
                adapter.close()
        sent: dict[int, float] = {}
        for line in send_log.read_text().splitlines():
            frame, t = line.split("\t")
            sent.setdefault(int(frame) * 50 // 3, float(t))  # the first reply of a frame
    read_ms = [(h - sent[d]) * 1000 for d, h, _ in received if d in sent]
    deliver_ms = [(c - sent[d]) * 1000 for d, _, c in received if d in sent]
    return {"cpu_share": round(cpu / wall, 4), "poses": len(received),
            "poses_per_s": round(len(received) / wall, 1),
            "read_p50_ms": round(statistics.median(read_ms), 2),
            "read_p99_ms": round(_percentile(read_ms, 0.99), 2),
            "event_p50_ms": round(statistics.median(deliver_ms), 2),
            "event_p99_ms": round(_percentile(deliver_ms, 0.99), 2)}


def main() -> dict:
    rate = decode_rate()
    rec = record()
    print(f"ndi decode: {rate:,.0f} BX replies/s (goal {DECODE_GOAL:,})")
    print(f"ndi tracking at real pace: CPU {rec['cpu_share']:.2%} of one core over {RECORD_S:g} s, "
          f"{rec['poses']} poses ({rec['poses_per_s']}/s; goal CPU < {CPU_GOAL:.0%})")
    print(f"ndi latency reply sent -> adapter read: p50 {rec['read_p50_ms']} ms, "
          f"p99 {rec['read_p99_ms']} ms; "
          f"-> consumer: p50 {rec['event_p50_ms']} ms, p99 {rec['event_p99_ms']} ms "
          f"(goal p99 < {LATENCY_P99_GOAL_MS:g} ms)")
    return {"frames_per_s": round(rate), "decode_goal": DECODE_GOAL, **rec, "cpu_goal": CPU_GOAL,
            "latency_p99_goal_ms": LATENCY_P99_GOAL_MS,
            "ok": rate >= DECODE_GOAL and rec["cpu_share"] < CPU_GOAL
            and rec["event_p99_ms"] < LATENCY_P99_GOAL_MS}


if __name__ == "__main__":
    main()
