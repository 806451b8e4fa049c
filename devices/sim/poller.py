"""``select.poll`` where the platform has it, a ``select.select`` stand-in where it does not.

The pty transport needs poll (only poll reports POLLHUP, which is how the
device senses that no host holds the terminal). Windows has no poll and no
ptys; there the simulator serves TCP, where sockets suffice for select and a
closed connection shows as an empty read.
"""

from __future__ import annotations

import select

POLLIN: int = getattr(select, "POLLIN", 1)
POLLOUT: int = getattr(select, "POLLOUT", 4)
POLLERR: int = getattr(select, "POLLERR", 8)
POLLHUP: int = getattr(select, "POLLHUP", 16)
POLLNVAL: int = getattr(select, "POLLNVAL", 32)


class Poller:
    def __init__(self) -> None:
        self._poll = select.poll() if hasattr(select, "poll") else None
        self._fds: dict[int, int] = {}

    def register(self, fd: int, mask: int) -> None:
        if self._poll is not None:
            self._poll.register(fd, mask)
        self._fds[fd] = mask

    def poll(self, timeout_ms: int) -> list[tuple[int, int]]:
        if self._poll is not None:
            return self._poll.poll(timeout_ms)
        readers = [fd for fd, m in self._fds.items() if m & POLLIN]
        writers = [fd for fd, m in self._fds.items() if m & POLLOUT]
        r, w, _ = select.select(readers, writers, [], max(timeout_ms, 0) / 1000.0)
        out: dict[int, int] = {}
        for fd in r:
            out[fd] = out.get(fd, 0) | POLLIN
        for fd in w:
            out[fd] = out.get(fd, 0) | POLLOUT
        return list(out.items())


def hung_up(revents: int) -> bool:
    return bool(revents & (POLLHUP | POLLERR | POLLNVAL))
