"""Start and stop the simulated NDI tracker as a child process (tests, the benchmark, demos): the
one way every vendor's simulator runs as a child (:mod:`devices.sim.child`)."""

from __future__ import annotations

from devices.sim.child import SimulatorChild, SimulatorError


class NdiProcess(SimulatorChild):
    """A running ``python -m devices.ndi.sim ARGS``; ``port`` and ``url`` once started."""

    MODULE = "devices.ndi.sim"
    NAME = "NDI simulator"

    def url(self, query: str = "") -> str:
        """The console address of the simulated tracker, with ``query`` (e.g. ``coil=A&reference=B``)."""
        return f"ndi+serial://{self.port}" + (f"?{query}" if query else "")


__all__ = ["NdiProcess", "SimulatorError"]
