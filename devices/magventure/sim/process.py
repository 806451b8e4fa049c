"""Start and stop the simulated MagPro as a child process (tests, the benchmark, demos): the one
way every vendor's simulator runs as a child (:mod:`devices.sim.child`)."""

from __future__ import annotations

import os

from devices.sim.child import SimulatorChild, SimulatorError


class MagProProcess(SimulatorChild):
    """A running ``python -m devices.magventure.sim ARGS``; ``port`` and ``url`` once started."""

    MODULE = "devices.magventure.sim"
    NAME = "MagPro simulator"

    def __init__(self, *args: str | os.PathLike[str], control: bool = False, layout: str = "a") -> None:
        super().__init__(*args)
        self.control = control
        self.layout = layout

    @property
    def url(self) -> str:
        query = f"?control={int(self.control)}&layout={self.layout}"
        return f"magventure+serial://{self.port}{query}"


__all__ = ["MagProProcess", "SimulatorError"]
