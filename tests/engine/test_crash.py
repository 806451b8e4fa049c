"""kill -9 of the record command at random moments: the record survives every time.

After each kill: the file passes integrity_check, recovery marks the session
interrupted (or it had completed), every pulse the simulator fired more than
0.5 s before the kill is stored, and none twice. 20 rounds, two at a time;
bench/bench_crash.py runs many more.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .crash import crash_round

pytestmark = pytest.mark.slow
ROUNDS = 20
SPEED = 100.0  # an iTBS run takes 1.9 s


def test_kill_9_at_random_moments_loses_nothing_that_was_older_than_half_a_second(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    # from the command's start-up to just after a whole run
    moments = [rng.uniform(0.15, 2.7) for _ in range(ROUNDS)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda i: crash_round(tmp_path, 100 + i, moments[i], speed=SPEED),
                                range(ROUNDS)))
    problems = [f"round {i} (kill after {r.kill_after_s:.2f} s): {p}"
                for i, r in enumerate(results) for p in r.problems]
    assert not problems, "\n".join(problems)
    assert all(r.integrity == "ok" for r in results)
    # the rounds did exercise the interesting cases
    assert sum(1 for r in results if r.status == "interrupted" and r.stored > 0) >= 5
    assert sum(r.required for r in results) > 0
