"""Run the benchmarks: ``python -m bench`` (all) or ``python -m bench decode pty``.

Options after the names (``python -m bench crash --real-pace``) go to every named
benchmark whose ``main`` takes them (``main(options: list[str])``).

Each ``bench/bench_<name>.py`` has a ``main() -> dict`` that measures, prints
its figures, and returns them; results are also written as JSON under
``bench/results/`` so docs/PERFORMANCE.md can quote a run.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    options = [a for a in argv if a.startswith("--")]
    argv = [a for a in argv if not a.startswith("--")]
    names = argv or sorted(
        m.name[len("bench_"):] for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_")
    )
    results = {}
    failed = False
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        takes_options = bool(inspect.signature(module.main).parameters)
        if options and not takes_options:
            print(f"{name}: takes no options; {' '.join(options)} ignored", flush=True)
        figures = module.main(options) if takes_options else module.main()
        figures["wall_s"] = round(time.perf_counter() - start, 2)
        results[name + "".join(options if takes_options else [])] = figures
        if figures.get("ok") is False:
            failed = True
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
