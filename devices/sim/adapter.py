"""``sim://``: the simulated device as a device address, for the demo and for scripts.

    sim://10hz?speed=1&seed=1&scenario=drift,noise&pose_hz=30&mso=62&commands=1

The adapter starts the simulator as its own process on a pseudo-terminal
(exactly as a separate device would be), reaches it through a stable link
path like /dev/serial/by-id (so the ``unplug`` scenario's new pty is found
again), and reads it with the ordinary TSCP serial adapter. Closing the
adapter stops the simulator.

Windows has no pseudo-terminals: there the simulator serves TCP on a port of
127.0.0.1 it picks, and the same adapter reads it as ``socket://`` (the
unplug scenario drops and re-accepts the connection on that port).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from devices.adapter import DeviceError, parse_flag, split_url
from devices.serial_adapter import SerialAdapter
from devices.sim.process import SimulatorError, SimulatorProcess
from devices.sim.transport import ptys_available

OPTIONS = ("speed", "seed", "scenario", "pose_hz", "mso", "commands", "autostart")


class SimulatedDeviceAdapter(SerialAdapter):
    """A SerialAdapter whose device is a simulator process it starts and stops.

    ``link`` is the pty's stable path; None when the simulator serves TCP,
    whose port is known only once it has started.
    """

    def __init__(self, simulator: SimulatorProcess, link: Path | None, url: str) -> None:
        super().__init__(str(link) if link is not None else "socket://127.0.0.1:0", url=url)
        self.simulator = simulator
        self._link_dir = link.parent if link is not None else None

    def open(self) -> None:
        if self.simulator.poll() is None and not self.simulator.port:
            try:
                self.simulator.start()
            except SimulatorError as exc:
                raise DeviceError(f"The simulated device did not start: {exc}") from exc
            if self._link_dir is None:
                self._retarget(self.simulator.port)
        super().open()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.simulator.stop()
            if self._link_dir is not None:
                with contextlib.suppress(OSError):
                    shutil.rmtree(self._link_dir)


def _number(url: str, key: str, text: str, kind: type) -> float | int:
    try:
        return kind(text)
    except ValueError:
        raise DeviceError(f"Option {key}={text!r} in {url!r} must be a number.") from None


def from_url(url: str) -> SimulatedDeviceAdapter:
    """sim://PROTOCOL?speed=X&seed=N&scenario=A,B&pose_hz=N&mso=N&commands=1&autostart=0"""
    _scheme, protocol, options = split_url(url, OPTIONS)
    protocol = protocol.strip("/") or "10hz"
    speed = float(_number(url, "speed", options.get("speed", "1"), float))
    if not 1 <= speed <= 1000:
        raise DeviceError(f"The speed in {url!r} must be between 1 and 1000.")
    commands = parse_flag(url, "commands", options.get("commands", "1"))
    autostart = parse_flag(url, "autostart", options.get("autostart", "0")) or not commands
    scenarios = tuple(s for s in options.get("scenario", "").split(",") if s)
    mso = options.get("mso")
    # a pty where there are ptys; elsewhere (Windows) TCP on a free port of 127.0.0.1
    link = Path(tempfile.mkdtemp(prefix="tms-sim-")) / "device" if ptys_available() else None
    simulator = SimulatorProcess(
        protocol, speed=speed, seed=int(_number(url, "seed", options.get("seed", "1"), int)),
        autostart=autostart, scenarios=scenarios, link=link, tcp_port=None if link is not None else 0,
        mso=int(_number(url, "mso", mso, int)) if mso else None,
        pose_hz=int(_number(url, "pose_hz", options.get("pose_hz", "30"), int)),
        no_commands=not commands,
    )
    return SimulatedDeviceAdapter(simulator, link, url)


# mypy cannot type an attribute set on a function; registry._describe reads it (the plug-in convention)
from_url.description = (  # type: ignore[attr-defined]
    "the simulated device, started on a pty (TCP on Windows): sim://10hz?speed=1&seed=1&scenario=drift"
)
