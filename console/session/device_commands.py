"""DeviceCommands: the session's command thread, apart from the reader.

A device may take its time to answer a command (up to 2 s), so commands are
sent from a thread of their own: a button press never blocks, and the reader
never waits for a device's answer. Every command's course goes into the
record through ``record`` (the runner's recorder, under its lock): sent, then
acknowledged, refused (with the device's reason), timed out or failed;
unsupported when the device takes no commands of that kind.

The runner keeps what a command means for the session (its plan, the undo of
a refused PAUSE); this module only knows how commands are sent and answered,
and how many are still waiting for their answer (the end of the record waits
for them, so a STOP's acknowledgement is not lost behind the end).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from devices.adapter import CommandRefused, CommandTimeout, CommandUnsupported, DeviceAdapter, DeviceError

log = logging.getLogger(__name__)


class RecordCommand(Protocol):
    """Records one step of a command's course (the runner's recorder, under its lock)."""

    def __call__(
        self, name: str, outcome: str, args: tuple[object, ...], **detail: str | None
    ) -> None: ...


class DeviceCommands:
    """Sends the session's device commands from one thread, in order, and records their course."""

    def __init__(self, adapter: DeviceAdapter, record: RecordCommand) -> None:
        self.adapter = adapter
        self._record = record
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], Future] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="session-commands")
        self._in_flight = 0  # commands sent whose answer is not recorded yet
        self._answered = threading.Condition()
        self.error: str | None = None
        """The device's last refusal or failure, until a command succeeds (shown in the live view)."""

    def start(self, thread_name: str) -> None:
        """Start the command thread (named after its session, for the logs)."""
        self._thread.name = thread_name
        self._thread.start()

    def close(self, timeout: float) -> None:
        """Let the commands already submitted run, then stop the thread."""
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def submit(self, fn: Callable[[], Any]) -> Future:
        """Run ``fn`` on the command thread; its result (or exception) goes to the Future."""
        future: Future = Future()
        self._queue.put((fn, future))
        return future

    def await_answers(self, timeout: float) -> bool:
        """Wait (at most ``timeout``) until every command sent has its answer recorded."""
        with self._answered:
            return self._answered.wait_for(lambda: self._in_flight == 0, timeout=timeout)

    def send(self, name: str, *args: object, by: str | None = None) -> bool:
        """Send one command (on the command thread), recording what was sent and how the device
        answered; False when the device does not take commands of this kind."""
        if not self.adapter.supports(name):
            self._record(name, "unsupported", args, by=by)
            return False
        self._record(name, "sent", args, by=by)
        with self._answered:
            self._in_flight += 1
        try:
            return self._send(name, args, by)
        finally:
            with self._answered:
                self._in_flight -= 1
                self._answered.notify_all()

    def _send(self, name: str, args: tuple[object, ...], by: str | None) -> bool:
        try:
            self.adapter.command(name, *args)
        except CommandUnsupported as exc:
            self._record(name, "unsupported", args, message=str(exc), by=by)
            return False
        except DeviceError as exc:
            message = str(exc)
            self.error = message
            if isinstance(exc, CommandRefused):
                outcome, reason = "refused", exc.reason
            else:
                outcome, reason = ("timed_out" if isinstance(exc, CommandTimeout) else "failed"), None
            self._record(name, outcome, args, reason=reason, message=message, by=by)
            raise
        self.error = None
        self._record(name, "acknowledged", args, by=by)
        return True

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)
