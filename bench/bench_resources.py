"""The clinic's resource files: what checking them at start costs, and what a cached read costs.

Since issue 12 every resource file is read through ``console.resource_data``:
checked against its JSON Schema once per version of the file, then handed out
as a copy. This measures the start-up check (every file, cold), a cached read,
and the plain ``json`` read the domain used before, so the two compare as a
ratio in one run. Goal: the start-up check well under the 1 s a person would
notice at start.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from console.resource_data import clear_cache, load, shipped_names, validate_all
from resources import load_json

GOAL_START_S = 1.0
NAME = "protocols.json"  # read at every session plan and review row


def _per_call_us(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main() -> dict:
    cold = []
    for _ in range(5):
        clear_cache()
        start = time.perf_counter()
        validate_all()
        cold.append(time.perf_counter() - start)
    start_s = min(cold)
    load(NAME)
    cached_us = _per_call_us(lambda: load(NAME), 2000)
    plain_us = _per_call_us(lambda: load_json(NAME), 2000)
    files = len(shipped_names())
    print(f"resources: start-up check of {files} files {start_s * 1000:.1f} ms "
          f"(goal < {GOAL_START_S:.0f} s); "
          f"{NAME}: checked+cached read {cached_us:.0f} µs, plain json read {plain_us:.0f} µs "
          f"(ratio {cached_us / plain_us:.2f})")
    return {"files": files, "startup_check_ms": round(start_s * 1000, 1), "cached_read_us": round(cached_us),
            "plain_json_read_us": round(plain_us), "goal_startup_s": GOAL_START_S,
            "ok": start_s < GOAL_START_S}
