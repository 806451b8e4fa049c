"""Command line of the simulated Magstim (``python -m devices.magstim.sim``; ``main.py simulate
--vendor magstim``).

The first stdout line is ``PORT <address>`` (flushed): the pty path (or the
``--link`` path), or ``socket://127.0.0.1:N`` with ``--tcp``; after a pulled
cable comes back, the new address is printed the same way.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import IO, Any

from devices.magstim.rules import MODELS, Unit, parse_version
from devices.magstim.sim.server import SCENARIOS, MagstimServer
from devices.magstim.sim.unit import SimUnit
from devices.sim.faultlog import FaultLog
from devices.sim.lifeline import announce, simulator_main, stop_when_stdin_ends
from devices.sim.plan import load_presets
from devices.sim.transport import PtyTransport, TcpTransport, ptys_available

log = logging.getLogger(__name__)

DESCRIPTION = ("Simulated Magstim 200², BiStim², Rapid² or Horizon on a pseudo-terminal (or TCP), "
               "speaking the Magstim serial protocol. Prints 'PORT <address>' first.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The simulator's options, for any parser."""
    parser.add_argument("--model", choices=sorted(MODELS), default="rapid", help="unit model (default rapid)")
    parser.add_argument("--version", default="9.4.0", metavar="X.Y.Z",
                        help="Rapid/Horizon software version (default 9.4.0; 9 and later need --unlock)")
    parser.add_argument("--unlock", default="", metavar="CODE",
                        help="the unit's unlock code (Rapid v9+): it answers nothing until it is sent")
    parser.add_argument("--mso", type=int, default=30, metavar="N", help="power at start-up, %% (default 30)")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="the unit's clock runs X times faster (1..1000, default 1); the link's "
                             "own timing (replies, remote-control timeout) stays real time")
    parser.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default 1)")
    parser.add_argument("--scenario", action="append", default=[], choices=SCENARIOS, metavar="NAME",
                        help="inject a scenario (repeatable): " + ", ".join(SCENARIOS))
    parser.add_argument("--scenario-at", type=float, default=20.0, metavar="S",
                        help="unit seconds after start-up when coil-unplugged and cable-pulled happen")
    parser.add_argument("--protocol", default=None, metavar="PRESET",
                        help="with --panel-start: the preset (resources/protocols.json) the unit runs from "
                             "its front panel / trigger input, e.g. itbs")
    parser.add_argument("--panel-start", type=float, default=None, metavar="S",
                        help="start --protocol from the front panel / trigger input S unit seconds "
                             "after start-up (pulses the serial line never reports)")
    parser.add_argument("--pulse-log", type=Path, default=None, metavar="FILE",
                        help="write one JSON line per delivered pulse (and disarm) to FILE")
    parser.add_argument("--fault-log", type=Path, default=None, metavar="FILE",
                        help="write one JSON line per injected fault to FILE")
    parser.add_argument("--wire-log", type=Path, default=None, metavar="FILE",
                        help="write one JSON line per command received and reply sent (hex) to FILE")
    parser.add_argument("--link", type=Path, default=None, metavar="PATH",
                        help="keep a symlink at PATH to the current pty and print PATH as the port")
    parser.add_argument("--tcp", type=int, default=None, metavar="PORT",
                        help="serve on 127.0.0.1:PORT instead of a pty (0 picks a free port)")
    parser.add_argument("--exit-after", type=float, default=None, metavar="S",
                        help="exit after S real seconds")
    parser.add_argument("--exit-with-stdin", action="store_true",
                        help="exit once standard input is closed (the starting program holds it)")


def _unit_from(args: argparse.Namespace) -> Unit:
    if args.model in ("rapid", "horizon"):
        version = parse_version(args.version)
        if version is None:
            raise ValueError(f"--version {args.version!r} is not a version such as 9.4.0")
        return Unit(args.model, version)
    return Unit(args.model, None)


def run(args: argparse.Namespace) -> int:
    """Run the simulator until stopped; 2 with a one-line message when the options are unusable."""
    try:
        unit = _unit_from(args)
        if not 1.0 <= args.speed <= 1000.0:
            raise ValueError("--speed must be between 1 and 1000")
        if not 0 <= args.mso <= 100:
            raise ValueError("--mso must be between 0 and 100")
        if unit.needs_unlock and not args.unlock:
            raise ValueError(f"a {args.model} at software {args.version} needs --unlock CODE")
        spec = None
        if args.panel_start is not None:
            presets = load_presets()
            if args.protocol not in presets:
                raise ValueError(f"--panel-start needs --protocol, one of {', '.join(presets)}")
            spec = presets[args.protocol]
        if args.tcp is None and not ptys_available():
            raise ValueError("this computer has no pseudo-terminals: serve TCP with --tcp PORT")
        fault_log = FaultLog(args.fault_log)
        pulse_file: IO[str] | None = args.pulse_log.open("w", encoding="utf-8") if args.pulse_log else None
        wire_file: IO[str] | None = args.wire_log.open("w", encoding="utf-8") if args.wire_log else None
    except (ValueError, OSError) as e:
        print(f"simulate: error: {e}", file=sys.stderr)
        return 2

    def record(kind: str, **fields: Any) -> None:
        if pulse_file is not None:
            pulse_file.write(json.dumps({"kind": kind, **fields}, separators=(",", ":")) + "\n")
            pulse_file.flush()

    def wire(direction: str, data: bytes) -> None:
        if wire_file is not None:
            wire_file.write(json.dumps({"dir": direction, "hex": data.hex()}) + "\n")
            wire_file.flush()

    unlock = args.unlock
    if "unlock-wrong" in args.scenario and unlock:
        unlock = unlock[:-1] + ("0" if unlock[-1] != "0" else "1")  # the unit expects another code
    sim = SimUnit(unit, unlock=unlock, power=args.mso, seed=args.seed,
                  heat_factor=10.0 if "temp-drift" in args.scenario else 1.0, log=record)
    link = args.link.absolute() if args.link else None
    transport: PtyTransport | TcpTransport = (
        TcpTransport(args.tcp) if args.tcp is not None else PtyTransport(link))
    server = MagstimServer(sim, transport, speed=args.speed, scenarios=tuple(args.scenario),
                           scenario_at=args.scenario_at, seed=args.seed, fault_log=fault_log,
                           announce=announce, exit_after=args.exit_after, wire=wire)
    if spec is not None:
        server.panel_start = lambda at: sim.start_panel_run(spec, at)
        server.panel_at = args.panel_start
    try:
        address = transport.open()
    except OSError as e:
        print(f"simulate: error: cannot open the port: {e}", file=sys.stderr)
        return 2
    server.install_signal_handlers()
    if args.exit_with_stdin:
        stop_when_stdin_ends(server.request_stop)
    announce(address)
    try:
        return server.run()
    finally:
        for file in (pulse_file, wire_file):
            if file is not None:
                file.close()


def main(argv: list[str] | None = None) -> int:
    return simulator_main("python -m devices.magstim.sim", DESCRIPTION, add_arguments, run, argv)
