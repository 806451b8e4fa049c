"""Command line of the simulated MagPro, shared by ``python -m devices.magventure.sim`` and
``main.py simulate --vendor magventure``.

The first line on stdout is ``PORT <address>`` (flushed): the pty path (or the ``--link`` path),
or ``socket://127.0.0.1:<port>`` with ``--tcp``. After a cable pull the new address is printed the
same way. Everything else goes to the log on stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from devices.magventure.sim.device import MODEL_NAMES, SCENARIOS, SimMagPro, SimOptions
from devices.magventure.sim.server import SimServer, Trace
from devices.sim.lifeline import announce, json_lines, open_logs, serve_until_stopped, simulator_main
from devices.sim.plan import load_presets
from devices.sim.transport import PtyTransport, TcpTransport, ptys_available

log = logging.getLogger(__name__)

MAX_SPEED = 1000.0
DESCRIPTION = (
    "Simulated MagVenture MagPro stimulator speaking its serial protocol (FE LEN PAYLOAD CRC8 FF, "
    "38400 8N1) on a pseudo-terminal (or TCP). Prints 'PORT <address>' first, then serves until "
    "stopped (Ctrl-C or SIGTERM)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--protocol", default="10hz", metavar="PRESET",
                        help="protocol set on the unit's Timing page, from resources/protocols.json "
                             "(default 10hz); 'none' for nothing set")
    parser.add_argument("--mso", type=int, default=60, metavar="N",
                        help="amplitude at start-up, %% of maximum output (default 60)")
    parser.add_argument("--model", default="x100-option", choices=MODEL_NAMES,
                        help="the MagPro model the status byte reports (default x100-option)")
    parser.add_argument("--serial", type=int, default=51234, metavar="N",
                        help="the serial number the status reports, 0..16777215 (default 51234)")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help=f"device time runs X times faster than real time, 1..{MAX_SPEED:g}")
    parser.add_argument("--seed", type=int, default=1, metavar="N",
                        help="random seed: the same seed and options give the same bytes (default 1)")
    parser.add_argument("--autostart", action="store_true",
                        help="a technician enables the unit and presses Start on its front panel 1 s "
                             "of device time after a host first opens the port")
    parser.add_argument("--layout", default="ab", choices=("a", "b", "ab"),
                        help="which command layout for IDs 06-0C the unit understands (default both)")
    parser.add_argument("--scenario", action="append", default=[], choices=SCENARIOS, metavar="NAME",
                        help="inject a scenario (repeatable): " + ", ".join(SCENARIOS))
    parser.add_argument("--tcp", type=int, default=None, metavar="PORT",
                        help="serve on 127.0.0.1:PORT instead of a pty (0 picks a free port)")
    parser.add_argument("--link", type=Path, default=None, metavar="PATH",
                        help="keep a symbolic link at PATH pointing to the current pty and print PATH")
    parser.add_argument("--fault-log", type=Path, default=None, metavar="FILE",
                        help="write one JSON line per injected fault or scenario moment to FILE")
    parser.add_argument("--trace", type=Path, default=None, metavar="FILE",
                        help="write one JSON line per frame each way (hex) to FILE")
    parser.add_argument("--exit-with-stdin", action="store_true",
                        help="exit once standard input is closed (the program that started it ended)")


def _problem(args: argparse.Namespace) -> str | None:
    if not 0 <= args.mso <= 100:
        return f"--mso must be 0..100, got {args.mso}"
    if not 1.0 <= args.speed <= MAX_SPEED:
        return f"--speed must be between 1 and {MAX_SPEED:g}, got {args.speed:g}"
    if not 0 <= args.serial <= 0xFFFFFF:
        return f"--serial must be 0..16777215 (three bytes), got {args.serial}"
    if args.seed < 0:
        return f"--seed must be 0 or more, got {args.seed}"
    if args.tcp is not None and args.link is not None:
        return "--link names a pseudo-terminal; it cannot be used with --tcp"
    if args.tcp is None and not ptys_available():
        return "this computer has no pseudo-terminals: serve TCP instead with --tcp PORT"
    return None


def _options(args: argparse.Namespace) -> SimOptions:
    spec = None
    if args.protocol != "none":
        presets = load_presets()
        if args.protocol not in presets:
            raise ValueError(f"unknown protocol preset {args.protocol!r}; choose from "
                             f"{', '.join(presets)} or none")
        spec = presets[args.protocol]
    return SimOptions(protocol=spec, mso=args.mso, model=MODEL_NAMES.index(args.model),
                      serial=args.serial, seed=args.seed, autostart=args.autostart, layout=args.layout,
                      scenarios=tuple(dict.fromkeys(args.scenario)))


def run(args: argparse.Namespace) -> int:
    """Run the simulated MagPro until stopped; 2 with a one-line message when options are unusable."""
    problem = _problem(args)
    try:
        if problem:
            raise ValueError(problem)
        options = _options(args)
        fault_file, trace_file = open_logs(args.fault_log, args.trace)
    except (ValueError, OSError) as e:
        print(f"simulate: error: {e}", file=sys.stderr)
        return 2
    write = json_lines(fault_file)

    def record(rec: dict[str, Any]) -> None:
        rec.setdefault("rejected", 0)
        rec.setdefault("missing", 0)
        write(rec)

    transport = TcpTransport(args.tcp) if args.tcp is not None else PtyTransport(
        args.link.absolute() if args.link else None)
    server = SimServer(SimMagPro(options, record), transport, speed=args.speed, announce=announce,
                       record=record, trace=Trace(trace_file))
    try:
        address = transport.open()
    except OSError as e:
        print(f"simulate: error: cannot open the port: {e}", file=sys.stderr)
        return 2
    return serve_until_stopped(server.run, lambda: setattr(server, "stop", True), args.exit_with_stdin,
                               address, (fault_file, trace_file))


def main(argv: list[str] | None = None) -> int:
    return simulator_main("python -m devices.magventure.sim", DESCRIPTION, add_arguments, run, argv)
