"""Command line of the simulated NDI tracker (``python -m devices.ndi.sim``).

The first line on stdout is ``PORT <address>`` (flushed): the pty path, or the ``--link`` path.
Everything else goes to the log on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devices.ndi.sim.device import Identity, SimUnit
from devices.ndi.sim.motion import Motion, MotionOptions
from devices.ndi.sim.server import SimServer
from devices.sim.lifeline import announce, json_lines, open_logs, serve_until_stopped, simulator_main
from devices.sim.settings import SettingsError
from devices.sim.transport import PtyTransport, ptys_available

MAX_SPEED = 1000.0
SCENARIOS = ("out-of-view", "reference-lost", "jitter", "drift", "latency", "garbage")
DESCRIPTION = (
    "Simulated NDI Polaris/Aurora tracker speaking the Combined API (INIT, COMM, PHRQ/PVWR/PINIT/"
    "PENA, TSTART, BX/TX, TSTOP; CRC-16) on a pseudo-terminal, starting at 9600 baud. Prints "
    "'PORT <address>' first, then serves until stopped (Ctrl-C or SIGTERM)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help=f"device time (the 60 Hz frame counter) runs X times faster, 1..{MAX_SPEED:g}")
    parser.add_argument("--seed", type=int, default=1, metavar="N",
                        help="random seed: the same seed and options give the same poses (default 1)")
    parser.add_argument("--scenario", action="append", default=[], choices=SCENARIOS, metavar="NAME",
                        help="inject a scenario (repeatable): " + ", ".join(SCENARIOS))
    parser.add_argument("--drift-start", type=float, default=5.0, metavar="S",
                        help="drift: device second the coil starts to slide (default 5)")
    parser.add_argument("--drift-rate", type=float, default=1.0, metavar="MM_PER_S",
                        help="drift: how fast the coil slides along the head's x axis (default 1 mm/s)")
    parser.add_argument("--wired", action="store_true",
                        help="Aurora-like: the coil (handle 0A) and the reference (0B) are plugged in; "
                             "no ROM files needed")
    parser.add_argument("--no-bx", action="store_true",
                        help="the unit refuses BX (ERROR01), as some firmware does with several tools")
    parser.add_argument("--model", default="Polaris Spectra", help="model line of the VER reply")
    parser.add_argument("--serial", default="P6-01234", help="serial number in the VER reply")
    parser.add_argument("--freeze-tag", default="Polaris Spectra Rev 008.000",
                        help="firmware 'Freeze Tag' in the VER reply (scikit-surgerynditracker picks "
                             "TX for 'Polaris Spectra Rev 007')")
    parser.add_argument("--link", type=Path, default=None, metavar="PATH",
                        help="keep a symbolic link at PATH pointing to the pty and print PATH")
    parser.add_argument("--fault-log", type=Path, default=None, metavar="FILE",
                        help="write one JSON line per scenario moment to FILE")
    parser.add_argument("--send-log", type=Path, default=None, metavar="FILE",
                        help="write 'FRAME<TAB>MONOTONIC_SECONDS' when each tracking reply is sent "
                             "(latency measurement)")
    parser.add_argument("--exit-with-stdin", action="store_true",
                        help="exit once standard input is closed (the program that started it ended)")


def _problem(args: argparse.Namespace) -> str | None:
    if not 1.0 <= args.speed <= MAX_SPEED:
        return f"--speed must be between 1 and {MAX_SPEED:g}, got {args.speed:g}"
    if args.seed < 0:
        return f"--seed must be 0 or more, got {args.seed}"
    if args.drift_rate < 0 or args.drift_start < 0:
        return "--drift-start and --drift-rate must be 0 or more"
    if not ptys_available():
        return "this computer has no pseudo-terminals; the NDI simulator needs one"
    return None


def run(args: argparse.Namespace) -> int:
    """Run the simulated tracker until stopped; 2 with a one-line message when options are unusable."""
    problem = _problem(args)
    try:
        if problem:
            raise ValueError(problem)
        scenarios = tuple(dict.fromkeys(args.scenario))
        motion = Motion(MotionOptions(args.seed, scenarios, args.drift_start, args.drift_rate))
        fault_file, send_file = open_logs(args.fault_log, args.send_log)
    except (ValueError, OSError, SettingsError) as e:
        print(f"simulate: error: {e}", file=sys.stderr)
        return 2
    record = json_lines(fault_file)
    record({"kind": "scenarios", "scenarios": list(scenarios), "drift_start_s": args.drift_start,
            "drift_mm_s": args.drift_rate, "speed": args.speed})
    unit = SimUnit(motion, Identity(args.model, args.serial, args.freeze_tag), wired=args.wired,
                   no_bx=args.no_bx)
    transport = PtyTransport(args.link.absolute() if args.link else None)
    server = SimServer(unit, transport, speed=args.speed, seed=args.seed, scenarios=scenarios,
                       announce=announce, record=record, send_log=send_file)
    try:
        address = transport.open()
    except OSError as e:
        print(f"simulate: error: cannot open the port: {e}", file=sys.stderr)
        return 2
    return serve_until_stopped(server.run, lambda: setattr(server, "stop", True), args.exit_with_stdin,
                               address, (fault_file, send_file))


def main(argv: list[str] | None = None) -> int:
    return simulator_main("python -m devices.ndi.sim", DESCRIPTION, add_arguments, run, argv)
