"""Memory of the recording path over an accelerated day (issue 13, #10).

An accelerated (SNT-style) day is some 18,000 pulses. Each figure comes from a
process of its own (``bench/memory_day.py``): a capture of the day (10 Hz
trains, no pause between them, 60 Hz pose) replayed through the real replay
adapter, SessionRunner, recorder, writer thread and SQLite file, with the
process's RSS read before the session opens and after its end is committed.

Bounded means the growth does not depend on the day's length: the same is
measured over a day twice as long, and the two growths must differ by less
than :data:`GOAL_EXTRA_KB`. With ``BEFORE_TREE=/path/to/older/copy`` the same
runs are made with that copy's code, for a before/after comparison on one
machine in one run.

Run: ``python -m bench memory`` (about a minute; BEFORE_TREE doubles it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAY = ROOT / "bench" / "memory_day.py"
PULSES = int(os.environ.get("PULSES", "18000"))
GOAL_EXTRA_KB = 2048
"""A day twice as long may grow the process by at most this much more (allocator noise)."""


def _run(*args: str) -> dict:
    out = subprocess.run([sys.executable, str(DAY), *args], capture_output=True, text=True, cwd=ROOT,
                         timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"memory_day {' '.join(args)} failed: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}


def _tree(root: Path, day: Path, double: Path) -> dict:
    one = _run("--root", str(root), "--capture", str(day))
    two = _run("--root", str(root), "--capture", str(double))
    grew, grew2 = one["rss_end_kb"] - one["rss_start_kb"], two["rss_end_kb"] - two["rss_start_kb"]
    return {"rss_start_kb": one["rss_start_kb"], "rss_end_kb": one["rss_end_kb"], "grew_kb": grew,
            "pulses": one["pulses"], "status": one["status"], "seconds": one["seconds"],
            "grew_kb_double_day": grew2, "pulses_double_day": two["pulses"],
            "extra_kb_for_double_day": grew2 - grew,
            "bytes_per_extra_pulse": round(1024 * (grew2 - grew) / max(1, two["pulses"] - one["pulses"]), 1)}


def _line(name: str, t: dict) -> str:
    mb = {k: t[k] / 1024 for k in ("rss_start_kb", "rss_end_kb", "grew_kb", "grew_kb_double_day",
                                   "extra_kb_for_double_day")}
    return (f"memory ({name}): RSS {mb['rss_start_kb']:.1f} MB at start, {mb['rss_end_kb']:.1f} MB after "
            f"{t['pulses']:,} pulses ({t['status']}, {t['seconds']} s): +{mb['grew_kb']:.1f} MB; a day twice "
            f"as long +{mb['grew_kb_double_day']:.1f} MB, so {t['bytes_per_extra_pulse']:.0f} B "
            "per extra pulse")


def main() -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as d:
        day, double = Path(d) / "day.tscp", Path(d) / "double.tscp"
        _run("--root", str(ROOT), "--write-capture", str(day), "--pulses", str(PULSES))
        _run("--root", str(ROOT), "--write-capture", str(double), "--pulses", str(2 * PULSES))
        figures: dict = {"pulses": PULSES, "goal_extra_kb": GOAL_EXTRA_KB}
        figures["after"] = after = _tree(ROOT, day, double)
        print(_line("this tree", after), flush=True)
        before_tree = os.environ.get("BEFORE_TREE")
        if before_tree:
            figures["before"] = before = _tree(Path(before_tree), day, double)
            print(_line(before_tree, before), flush=True)
            if after["grew_kb"] > 0:
                figures["day_growth_ratio_before_over_after"] = round(before["grew_kb"] / after["grew_kb"], 2)
                print(f"memory: the {PULSES:,}-pulse day grows the process "
                      f"{figures['day_growth_ratio_before_over_after']}x less than before; before, each "
                      f"pulse kept {before['bytes_per_extra_pulse']:.0f} B, now "
                      f"{after['bytes_per_extra_pulse']:.0f} B")
    figures["ok"] = after["extra_kb_for_double_day"] < GOAL_EXTRA_KB and after["status"] == "completed"
    return figures


if __name__ == "__main__":
    print(main())
