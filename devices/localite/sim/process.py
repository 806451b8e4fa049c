"""Start and stop the simulated TMS Navigator as a child process (tests, the benchmark, demos): the
one way every vendor's simulator runs as a child (:mod:`devices.sim.child`); it is read over real
TCP, and its ``PORT`` line is already the console's address."""

from __future__ import annotations

from devices.sim.child import SimulatorChild, SimulatorError


class NavigatorProcess(SimulatorChild):
    """A running ``python -m devices.localite.sim ARGS``; ``url``, ``address`` (host:port) and
    ``port`` once started."""

    MODULE = "devices.localite.sim"
    NAME = "Navigator simulator"

    @property
    def url(self) -> str:
        return self.printed

    @property
    def address(self) -> str:
        return self.url.split("://", 1)[1] if self.url else ""

    @property
    def port(self) -> int:  # type: ignore[override]  # the TCP port, as the Navigator's clients use it
        return int(self.address.rsplit(":", 1)[1])


__all__ = ["NavigatorProcess", "SimulatorError"]
