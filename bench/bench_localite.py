"""Localite TMS Navigator: decode rate (objects/s, one core), the CPU share of recording the
simulated Navigator at real pace through the adapter over TCP (process CPU time / wall time), and
the latency from a position leaving the simulator to the adapter's Pose (p50/p99).

The latency is timed fairly on one machine: the simulator writes ``time.monotonic()`` (one system
clock for every process on Linux) into its ``--trace`` file as it sends each position, and the
console side takes the Pose's ``host_t`` (when the reader thread read the bytes) and the moment
the consumer got the event; positions and Poses are matched in order (every one arrives, checked).
Navigator's own delay from camera to message is not in it: that needs a real Navigator.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from devices import events as ev
from devices.localite.codec import Receiver
from devices.localite.sim.process import NavigatorProcess

DECODE_GOAL = 20_000
"""Objects/s: 10 polls a second bring ~40 objects/s; the goal leaves room for 500 times that."""
CPU_GOAL = 0.05
LATENCY_P99_GOAL_MS = 20.0
RECORD_S = 10.0


def make_stream(n: int) -> bytes:
    """A session's mix: status, reference and position per poll, BLOCKED noise, a di/dt now and then."""
    out = [b'{"patient_registration_status": "REGISTERED"}']
    for i in range(n):
        k = i % 4
        if k == 0:
            out.append(b'{"coil_0_status": "OK"}')
        elif k == 1:
            out.append(b'{"reference_status": "OK"}')
        elif k == 2:
            out.append(b'{"coil_0_position": {"q0": 0.923903, "qx": 6.3e-05, "qy": 0.382627, "qz": -1e-06, '
                       b'"x": -42.%03d, "y": 38.411, "z": 61.196}}' % (i % 1000))
        elif i % 40 == 3:
            out.append(b'{"coil_0_didt": 72}')
        else:
            out.append(b'{"pointer_status": "BLOCKED"}')
    return b"".join(out)


def decode_rate(n: int = 100_000) -> float:
    data = make_stream(n)
    best = 0.0
    for _ in range(3):
        receiver = Receiver()
        start = time.perf_counter()
        for i in range(0, len(data), 4096):
            receiver.feed(data[i:i + 4096], 1.0)
        elapsed = time.perf_counter() - start
        assert receiver.received == n + 1 and receiver.rejected == 0
        best = max(best, n / elapsed)
    return best


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def record(seconds: float = RECORD_S) -> dict[str, float]:
    """CPU share of this process and position-to-Pose latency while recording at speed 1, 10 Hz."""
    from devices.localite.adapter import from_url

    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace.jsonl"
        with NavigatorProcess("--speed", "1", "--trace", trace) as sim:
            adapter = from_url(sim.url)
            adapter.open()
            got: list[tuple[float, float]] = []  # (host_t, consumer time) per Pose
            events = 0
            try:
                cpu, wall = time.process_time(), time.monotonic()
                deadline = wall + seconds
                while time.monotonic() < deadline:
                    for event in adapter.events(idle_timeout=0.2):
                        events += 1
                        if isinstance(event, ev.Pose) and event.visible:
                            got.append((event.host_t, time.monotonic()))
                        if time.monotonic() >= deadline:
                            break
                cpu, wall = time.process_time() - cpu, time.monotonic() - wall
            finally:
                adapter.close()
        sent = [json.loads(line)["t"] for line in trace.read_text().splitlines() if '"pose"' in line]
    assert len(sent) >= len(got) > 0
    read_ms = [(h - s) * 1000 for (h, _c), s in zip(got, sent, strict=False)]
    taken_ms = [(c - s) * 1000 for (_h, c), s in zip(got, sent, strict=False)]
    return {"cpu_share": cpu / wall, "events": events, "poses": len(got),
            "read_p50_ms": statistics.median(read_ms), "read_p99_ms": percentile(read_ms, 0.99),
            "consumer_p50_ms": statistics.median(taken_ms), "consumer_p99_ms": percentile(taken_ms, 0.99)}


def main() -> dict:
    rate = decode_rate()
    r = record()
    print(f"localite decode: {rate:,.0f} objects/s (goal {DECODE_GOAL:,})")
    print(f"localite recording at real pace: CPU {r['cpu_share']:.2%} of one core over {RECORD_S:g} s, "
          f"{r['events']} events, {r['poses']} poses (goal < {CPU_GOAL:.0%})")
    print(f"localite position sent -> read by the adapter: p50 {r['read_p50_ms']:.2f} ms, "
          f"p99 {r['read_p99_ms']:.2f} ms; -> taken by the consumer: p50 {r['consumer_p50_ms']:.2f} ms, "
          f"p99 {r['consumer_p99_ms']:.2f} ms (goal p99 < {LATENCY_P99_GOAL_MS:g} ms)")
    return {"objects_per_s": round(rate), "decode_goal": DECODE_GOAL,
            "cpu_share": round(r["cpu_share"], 4), "cpu_goal": CPU_GOAL, "events": r["events"],
            "poses": r["poses"],
            **{k: round(v, 3) for k, v in r.items() if k.endswith("_ms")},
            "latency_p99_goal_ms": LATENCY_P99_GOAL_MS,
            "ok": rate >= DECODE_GOAL and r["cpu_share"] < CPU_GOAL
            and r["consumer_p99_ms"] < LATENCY_P99_GOAL_MS}


if __name__ == "__main__":
    main()
