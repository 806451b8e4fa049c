"""kill -9 of the record command at random moments: the record survives every time.

After each kill: the file passes integrity_check, recovery marks the session
interrupted (or it had completed), every pulse the simulator fired more than
0.5 s before the kill is stored, and none twice. 20 rounds, four at a time;
bench/bench_crash.py runs many more.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .crash import CrashResult, crash_round

pytestmark = pytest.mark.slow
ROUNDS = 20
SPEED = 100.0  # an iTBS run takes 1.9 s
WORKERS = 4  # rounds at a time: most of a round is waiting for its kill moment


def test_kill_9_at_random_moments_loses_nothing_that_was_older_than_half_a_second(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    # a quarter during start-up (from the launch), the rest during the run (from SESSION)
    plan = [(rng.uniform(0.05, 1.0), False) if i % 4 == 0 else (rng.uniform(0.0, 2.3), True)
            for i in range(ROUNDS)]

    def one(i: int) -> CrashResult:
        after, from_session = plan[i]
        return crash_round(tmp_path, 100 + i, after, speed=SPEED, from_session=from_session)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(one, range(ROUNDS)))
    problems = [f"round {i} (kill after {r.kill_after_s:.2f} s): {p}"
                for i, r in enumerate(results) for p in r.problems]
    assert not problems, "\n".join(problems)
    assert all(r.integrity == "ok" for r in results)
    # the rounds did exercise the interesting cases
    assert sum(1 for r in results if r.status == "interrupted" and r.required > 0) >= 5
