"""``python -m tests.hub.run_cli hub ...``: the hub command in its own process, as main.py will run it."""

from __future__ import annotations

import argparse
import sys

from cli import hub_cmd


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="main.py")
    hub_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
