"""Command line of the simulated device, shared by ``python -m devices.sim`` and ``main.py simulate``.

The first line on stdout is ``PORT <address>`` (flushed), where the address is
what pyserial opens: the pty path (or the ``--link`` path), or
``socket://127.0.0.1:<port>`` with ``--tcp``. After an unplug the new address
is printed the same way. Everything else goes to the log on stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path

from devices.sim.config import MAX_POSE_HZ, MAX_SPEED, SimConfig
from devices.sim.faultlog import FaultLog
from devices.sim.plan import load_presets
from devices.sim.server import SimServer
from devices.sim.settings import SCENARIOS, SettingsError, load_settings
from devices.sim.transport import ptys_available

log = logging.getLogger(__name__)

NO_PROTOCOL = "none"
DESCRIPTION = (
    "Simulated TMS stimulator and coil tracker speaking TSCP/1 on a pseudo-terminal "
    "(or TCP). Prints 'PORT <address>' first, then serves until stopped (Ctrl-C or SIGTERM)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The simulator's options, for any parser (main.py's sub-command or the module's own)."""
    parser.add_argument("--protocol", default="10hz", metavar="PRESET",
                        help="protocol preset loaded at start-up, from resources/protocols.json "
                             f"(default 10hz); '{NO_PROTOCOL}' starts with nothing loaded")
    parser.add_argument("--mso", type=int, default=None, metavar="N",
                        help="intensity at start-up, %% of maximum stimulator output (default from "
                             "resources/simulator.json)")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help=f"device time runs X times faster than real time, 1..{MAX_SPEED:g} (default 1)")
    parser.add_argument("--seed", type=int, default=1, metavar="N",
                        help="random seed: the same seed and options give the same stream (default 1)")
    parser.add_argument("--pose-hz", type=int, default=30, metavar="HZ",
                        help=f"coil pose frames per second of device time, 1..{MAX_POSE_HZ} (default 30)")
    parser.add_argument("--autostart", action="store_true",
                        help="start the run 1 s of device time after a host connects (otherwise wait "
                             "for START)")
    parser.add_argument("--exit-after-eos", action="store_true",
                        help="exit once the end of the run has been sent and read")
    parser.add_argument("--link", type=Path, default=None, metavar="PATH",
                        help="keep a symbolic link at PATH pointing to the current pty and print PATH "
                             "as the port")
    parser.add_argument("--fault-log", type=Path, default=None, metavar="FILE",
                        help="write one JSON line per injected fault to FILE")
    parser.add_argument("--scenario", action="append", default=[], choices=SCENARIOS, metavar="NAME",
                        help="inject a scenario (repeatable): " + ", ".join(SCENARIOS))
    parser.add_argument("--tcp", type=int, default=None, metavar="PORT",
                        help="serve on 127.0.0.1:PORT instead of a pty, one client at a time "
                             "(0 picks a free port)")
    parser.add_argument("--no-commands", action="store_true",
                        help="a recording-only device: refuse every command but ID? and PING with "
                             "NAK UNSUPPORTED, and start the run by itself")
    parser.add_argument("--exit-with-stdin", action="store_true",
                        help="exit cleanly once standard input is closed: a program that starts the "
                             "simulator holds the other end, so the simulator never outlives it")


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """Check the options against the presets and settings; ValueError says what is wrong."""
    settings = load_settings()
    if args.protocol == NO_PROTOCOL:
        spec = None
    else:
        presets = load_presets()
        if args.protocol not in presets:
            raise ValueError(f"unknown protocol preset {args.protocol!r}; choose from "
                             f"{', '.join(presets)} or {NO_PROTOCOL}")
        spec = presets[args.protocol]
    config = SimConfig(
        protocol=spec,
        mso=settings.default_mso if args.mso is None else args.mso,
        speed=args.speed, seed=args.seed, pose_hz=args.pose_hz, autostart=args.autostart,
        exit_after_eos=args.exit_after_eos,
        link=args.link.absolute() if args.link else None,
        fault_log=args.fault_log.absolute() if args.fault_log else None,
        scenarios=tuple(dict.fromkeys(args.scenario)), tcp_port=args.tcp, no_commands=args.no_commands,
    )
    problem = config.problem()
    if problem:
        raise ValueError(problem)
    if config.tcp_port is None and not ptys_available():
        raise ValueError("this computer has no pseudo-terminals: serve TCP instead with --tcp PORT")
    return config


def _announce(address: str) -> None:
    print(f"PORT {address}", flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the simulator until stopped; 2 with a one-line message when the options are unusable."""
    try:
        config = config_from_args(args)
        settings = load_settings()
        fault_log = FaultLog(config.fault_log)
    except (ValueError, SettingsError, OSError) as e:
        print(f"simulate: error: {e}", file=sys.stderr)
        return 2
    server = SimServer(config, settings, fault_log=fault_log, announce=_announce)
    try:
        address = server.open()
    except OSError as e:
        fault_log.close()
        print(f"simulate: error: cannot open the port: {e}", file=sys.stderr)
        return 2
    server.install_signal_handlers()
    if args.exit_with_stdin:
        _watch_stdin(server)
    _announce(address)
    return server.run()


def _watch_stdin(server: SimServer) -> None:
    """Stop the server when stdin reaches its end: the parent's write end is closed by the OS
    however the parent ends (kill -9 too), on every platform. ``os.read`` on the raw descriptor,
    not ``sys.stdin``, so this daemon thread holds no buffer lock at interpreter exit."""

    def watch() -> None:
        try:
            while os.read(0, 4096):
                pass  # the parent writes nothing; anything it does write is ignored
        except OSError:
            pass  # no usable stdin: the same as its end
        log.info("standard input closed: stopping")
        server.request_stop()

    threading.Thread(target=watch, name="sim-stdin-lifeline", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devices.sim", description=DESCRIPTION)
    add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(args)
