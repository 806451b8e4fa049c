"""``python main.py simulate``: a simulated device on a pseudo-terminal (or TCP).

Without ``--vendor`` (or with ``--vendor tscp``) it is our own TSCP/1 device, the options and
behaviour of devices.sim.cli, so ``python -m devices.sim`` and this sub-command are the same
program. ``--vendor magventure`` or ``--vendor magstim`` runs that vendor's simulator instead,
speaking its serial protocol (issue 16); everything after the vendor's name is that simulator's
own options (``python main.py simulate --vendor magstim --help`` lists them), so ``--vendor``
comes first.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from devices.sim import cli as sim_cli

VENDORS = {
    "tscp": "devices.sim.cli",
    "magventure": "devices.magventure.sim.cli",
    "magstim": "devices.magstim.sim.cli",
    "ndi": "devices.ndi.sim.cli",
    "localite": "devices.localite.sim.cli",
}
"""``--vendor`` -> the simulator's command-line module (``add_arguments``, ``run``, ``DESCRIPTION``)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate", help="run a simulated stimulator or tracker (prints PORT <path>, then serves it)",
        description=sim_cli.DESCRIPTION + " With --vendor magventure|magstim|ndi|localite (given first), "
                    "that vendor's simulator instead: its options follow the vendor's name.",
    )
    parser.add_argument("--vendor", nargs=argparse.REMAINDER, default=None, metavar="VENDOR",
                        help=f"which device to simulate: {', '.join(VENDORS)} (default tscp); the rest of "
                             "the line is that simulator's options (see --vendor NAME --help)")
    sim_cli.add_arguments(parser)
    parser.set_defaults(func=run)


def _module(vendor: str) -> ModuleType:
    return importlib.import_module(VENDORS[vendor])


def vendor_parser(vendor: str) -> argparse.ArgumentParser:
    """The parser of ``vendor``'s simulator, as ``main.py simulate --vendor VENDOR`` shows it."""
    module = _module(vendor)
    parser = argparse.ArgumentParser(prog=f"main.py simulate --vendor {vendor}",
                                     description=getattr(module, "DESCRIPTION", None))
    module.add_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    if not args.vendor:
        if args.vendor is not None:  # "--vendor" with nothing after it
            print(f"simulate: --vendor needs one of {', '.join(VENDORS)}", file=sys.stderr)
            return 2
        return sim_cli.run(args)
    vendor, rest = args.vendor[0].lower(), args.vendor[1:]
    if vendor not in VENDORS:
        print(f"simulate: unknown vendor {args.vendor[0]!r}; known: {', '.join(VENDORS)}", file=sys.stderr)
        return 2
    if vendor == "tscp":
        return sim_cli.run(vendor_parser("tscp").parse_args(rest))
    before = {k: v for k, v in vars(args).items() if k not in ("vendor", "func", "command", "verbose")}
    defaults = vars(vendor_parser("tscp").parse_args([]))
    if any(before.get(k) != v for k, v in defaults.items()):
        print("simulate: put --vendor first; the options after it are the vendor simulator's",
              file=sys.stderr)
        return 2
    return int(_module(vendor).run(vendor_parser(vendor).parse_args(rest)))
