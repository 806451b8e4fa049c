"""``devices``: list the device adapters (by address scheme) and the serial ports present.

What a technician or an installer needs to write a ``--device`` address:
which kinds of address this installation understands (built-ins, the
simulator and any vendor plug-ins) and which serial ports the computer sees.
"""

from __future__ import annotations

import argparse
import logging

from serial.tools import list_ports

from devices.registry import adapter_schemes

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "devices",
        help="list the device adapters and the serial ports present",
        description="List the kinds of device address this console understands and the serial "
                    "ports present on this computer.",
    )
    parser.set_defaults(func=run)


def serial_ports() -> list[tuple[str, str]]:
    """(port, what it is) for every serial port the system reports, sorted by port."""
    found = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        about = port.description if port.description and port.description != "n/a" else ""
        if port.hwid and port.hwid != "n/a":
            about = f"{about} [{port.hwid}]".strip()
        found.append((port.device, about))
    return found


def run(args: argparse.Namespace) -> int:
    schemes = adapter_schemes()
    width = max(len(s) for s in schemes) + 3
    print("Device adapters (use as --device ADDRESS):")
    for scheme, description in schemes.items():
        print(f"  {scheme + '://':<{width}} {description}")
    print()
    ports = serial_ports()
    print("Serial ports present:" if ports else "Serial ports present: none found.")
    for device, about in ports:
        print(f"  tscp+serial://{device}   {about}".rstrip())
    kinds = [s for s in schemes if s.endswith("+serial") and s != "tscp+serial"]
    if ports and kinds:
        print("  (a vendor's stimulator on one of them: " + ", ".join(f"{k}://PORT" for k in kinds) + ")")
    return 0
