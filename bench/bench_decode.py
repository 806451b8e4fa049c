"""Decoding alone: TSCP/1 frames per second on one core (goal: >= 100,000)."""

from __future__ import annotations

import time

from devices.tscp import Receiver, encode_frame, format_pose_fields

GOAL = 100_000


def make_stream(n: int) -> bytes:
    """A realistic mix: ~30 POSE per 10 PULSE, a STAT now and then."""
    out = []
    for i in range(n):
        t = 1000 + i * 3
        if i % 40 == 0:
            out.append(encode_frame(i % 65536, "STAT", [t, "RUNNING", 62, "31.5", "C-B60"]))
        elif i % 4 == 0:
            out.append(encode_frame(i % 65536, "PULSE", [t, i // 4, 62, "142.5"]))
        else:
            pose = (-42.1, 38.55, 61.2, 0.9239, 0.0, 0.3827, 0.0)
            out.append(encode_frame(i % 65536, "POSE", format_pose_fields(t, pose, 0.98)))
    return b"".join(out)


def main() -> dict:
    n = 300_000
    data = make_stream(n)
    best = 0.0
    for _ in range(3):
        receiver = Receiver()
        start = time.perf_counter()
        for i in range(0, len(data), 4096):
            receiver.feed(data[i : i + 4096])
        elapsed = time.perf_counter() - start
        assert receiver.received == n and receiver.rejected == 0 and receiver.missing == 0
        best = max(best, n / elapsed)
    print(f"decode: {best:,.0f} frames/s (goal {GOAL:,})")
    return {"frames_per_s": round(best), "goal": GOAL, "ok": best >= GOAL}
