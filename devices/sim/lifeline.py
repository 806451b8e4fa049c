"""What every simulator's command line shares: its ``main`` and its lifeline to the program that
started it.

A simulator started by a test or the console (``--exit-with-stdin``) must not outlive it: the
starter holds the only write end of the child's stdin, which the OS closes however the starter
ends, so the child stops when a read of its stdin ends.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from collections.abc import Callable


def stop_when_stdin_ends(stop: Callable[[], None]) -> None:
    """Call ``stop`` (from a daemon thread) once standard input ends."""

    def watch() -> None:
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        stop()

    threading.Thread(target=watch, name="sim-stdin-lifeline", daemon=True).start()


def simulator_main(prog: str, description: str, add_arguments: Callable[[argparse.ArgumentParser], None],
                   run: Callable[[argparse.Namespace], int], argv: list[str] | None = None) -> int:
    """``python -m <prog>``: the simulator's options, ``-v`` for more log detail, then ``run``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(args)
