"""What every simulator's command line shares: its ``main``, its lifeline to the program that
started it, its JSON-line logs and the way it serves until stopped.

A simulator started by a test or the console (``--exit-with-stdin``) must not outlive it: the
starter holds the only write end of the child's stdin, which the OS closes however the starter
ends, so the child stops when a read of its stdin ends.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, TextIO


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


def announce(address: str) -> None:
    """The one line a starter waits for: where the simulated device answers."""
    print(f"PORT {address}", flush=True)


def json_lines(file: IO[str] | None) -> Callable[[dict[str, Any]], None]:
    """A writer of one JSON line per record, flushed at once (a killed simulator keeps what it wrote);
    nothing when no file was asked for."""

    def write(rec: dict[str, Any]) -> None:
        if file is not None:
            file.write(json.dumps(rec, separators=(",", ":")) + "\n")
            file.flush()

    return write


def open_logs(*paths: Path | None) -> list[TextIO | None]:
    """The log files a simulator was asked to write (None where not asked), opened for writing."""
    return [p.open("w", encoding="utf-8") if p is not None else None for p in paths]


def serve_until_stopped(run: Callable[[], int], stop: Callable[[], None], exit_with_stdin: bool,
                        address: str, files: Iterable[IO[str] | None] = ()) -> int:
    """Stop on SIGTERM or SIGINT (and when stdin ends, if asked), say where the device answers, serve;
    the log files are closed however the serving ends."""

    def on_signal(signum: int, frame: object) -> None:
        stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    if exit_with_stdin:
        stop_when_stdin_ends(stop)
    announce(address)
    try:
        return run()
    finally:
        for f in files:
            if f is not None:
                f.close()
