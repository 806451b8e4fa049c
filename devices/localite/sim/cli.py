"""Command line of the simulated TMS Navigator (``python -m devices.localite.sim``; the console's
``simulate`` command can offer it with :data:`DESCRIPTION`, :func:`add_arguments` and :func:`run`).

The first line on stdout is ``PORT localite+tcp://127.0.0.1:<port>`` (flushed): the address to type
into the console. Everything else goes to the log on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devices.localite.sim.navigator import SCENARIOS, SimNavigator, SimOptions
from devices.localite.sim.server import SimServer
from devices.sim.lifeline import json_lines, open_logs, serve_until_stopped, simulator_main
from devices.sim.settings import SettingsError

MAX_SPEED = 1000.0
DESCRIPTION = (
    "Simulated Localite TMS Navigator serving its JSON interface (bare JSON objects over TCP) on "
    "127.0.0.1: the coil pose on the simulator's target, di/dt after each pulse, amplitude, "
    "temperature. Prints 'PORT <address>' first, then serves until stopped (Ctrl-C or SIGTERM)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, metavar="N",
                        help="TCP port on 127.0.0.1 (default 0: a free one; Navigator's own is 6666)")
    parser.add_argument("--coil", type=int, default=0, choices=(0, 1),
                        help="which of Navigator's two coils is tracked and pulsed (default 0)")
    parser.add_argument("--amplitude", type=int, default=45, metavar="N",
                        help="amplitude at start-up, %% of maximum output (default 45)")
    parser.add_argument("--pulse-hz", type=float, default=1.0, metavar="HZ",
                        help="pulses per second of device time, each followed by a di/dt message "
                             "(default 1; 0 for none)")
    parser.add_argument("--unregistered", action="store_true",
                        help="the patient is not registered: no position is in the head frame")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help=f"device time runs X times faster than real time, 1..{MAX_SPEED:g}")
    parser.add_argument("--seed", type=int, default=1, metavar="N",
                        help="random seed: the same seed, options and requests give the same answers")
    parser.add_argument("--scenario", action="append", default=[], choices=SCENARIOS, metavar="NAME",
                        help="inject a scenario (repeatable): " + ", ".join(SCENARIOS))
    parser.add_argument("--fault-log", type=Path, default=None, metavar="FILE",
                        help="write one JSON line per injected fault or scenario moment to FILE")
    parser.add_argument("--trace", type=Path, default=None, metavar="FILE",
                        help="write one JSON line per message sent (monotonic time, text, true pose)")
    parser.add_argument("--exit-with-stdin", action="store_true",
                        help="exit once standard input is closed (the program that started it ended)")


def _problem(args: argparse.Namespace) -> str | None:
    if not 0 <= args.amplitude <= 100:
        return f"--amplitude must be 0..100, got {args.amplitude}"
    if not 1.0 <= args.speed <= MAX_SPEED:
        return f"--speed must be between 1 and {MAX_SPEED:g}, got {args.speed:g}"
    if not 0.0 <= args.pulse_hz <= 100.0:
        return f"--pulse-hz must be 0..100, got {args.pulse_hz:g}"
    if not 0 <= args.port < 65536:
        return f"--port must be 0..65535, got {args.port}"
    if args.seed < 0:
        return f"--seed must be 0 or more, got {args.seed}"
    return None


def run(args: argparse.Namespace) -> int:
    """Serve until stopped; 2 with a one-line message when the options are unusable."""
    try:
        problem = _problem(args)
        if problem:
            raise ValueError(problem)
        options = SimOptions(seed=args.seed, coil=args.coil, amplitude=args.amplitude,
                             pulse_hz=args.pulse_hz, registered=not args.unregistered,
                             scenarios=tuple(dict.fromkeys(args.scenario)))
        navigator = SimNavigator(options)
        fault_file, trace_file = open_logs(args.fault_log, args.trace)
    except (ValueError, OSError, SettingsError) as e:
        print(f"simulate: error: {e}", file=sys.stderr)
        return 2
    server = SimServer(navigator, port=args.port, speed=args.speed, record=json_lines(fault_file),
                       trace=trace_file)
    try:
        port = server.open()
    except OSError as e:
        print(f"simulate: error: cannot listen on 127.0.0.1:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 2
    return serve_until_stopped(server.run, lambda: setattr(server, "stop", True), args.exit_with_stdin,
                               f"localite+tcp://127.0.0.1:{port}", (fault_file, trace_file))


def main(argv: list[str] | None = None) -> int:
    return simulator_main("python -m devices.localite.sim", DESCRIPTION, add_arguments, run, argv)
