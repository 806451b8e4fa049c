"""``python main.py simulate``: the simulated TSCP/1 device on a pseudo-terminal (or TCP).

The options and behaviour are devices.sim.cli's, so ``python -m devices.sim``
and this sub-command are the same program.
"""

from __future__ import annotations

import argparse

from devices.sim import cli as sim_cli


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate", help="run the simulated TMS device (prints PORT <path>, then serves TSCP/1)",
        description=sim_cli.DESCRIPTION,
    )
    sim_cli.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return sim_cli.run(args)
