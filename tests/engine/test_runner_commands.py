"""Every device command goes through the runner and lands in the session's record
(the SQLite file) with the device's answer: sent, then acknowledged, refused (with
the device's reason), timed out; unsupported when the device takes none."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console.session.runner import SessionPlan, SessionRunner
from db.database import open_database
from devices.adapter import (
    CommandRefused,
    CommandTimeout,
    CommandUnsupported,
    DeviceAdapter,
    DeviceEvent,
    LinkCounters,
)
from devices.events import EndOfSession, Train

from .test_runner import new_patient


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    open_database(path).close()
    return path


class AnsweringAdapter(DeviceAdapter):
    """A device that sends no events and answers each command as the test says."""

    url = "fake://answering"

    def __init__(self, answers: dict[str, BaseException | None], supported: set[str] | None = None) -> None:
        self.answers = answers
        self.supported = set(answers) if supported is None else supported
        self.sent: list[tuple[str, tuple[object, ...]]] = []
        self._closed = queue.SimpleQueue[bool]()

    def open(self) -> None:
        pass

    def close(self) -> None:
        self._closed.put(True)

    def events(self, idle_timeout: float | None = None) -> Iterator[DeviceEvent]:
        try:  # wait like a quiet link, without spinning
            self._closed.get(timeout=idle_timeout)
            self._closed.put(True)
        except queue.Empty:
            pass
        return iter(())

    def counters(self) -> LinkCounters:
        return LinkCounters(0, 0, 0, ())

    def supports(self, command: str) -> bool:
        return command in self.supported

    def command(self, name: str, *args: object, timeout: float = 2.0) -> None:
        self.sent.append((name, args))
        answer = self.answers.get(name)
        if answer is not None:
            raise answer


def command_events(db_path: Path, session_id: int) -> list[tuple[str, dict, str | None]]:
    db = open_database(db_path)
    try:
        return [(r["code"], json.loads(r["detail"]), r["by_user"]) for r in db.query(
            "SELECT code, detail, by_user FROM session_events WHERE session_id = ? AND kind = 'command' "
            "ORDER BY id", [session_id])]
    finally:
        db.close()


def run_commands(db_path: Path, plan: SessionPlan, adapter: AnsweringAdapter, mso: int) -> tuple[int, object]:
    """Open a session, ask for ``mso``, close; the session id and the future's outcome."""
    runner = SessionRunner(db_path, adapter, plan)
    try:
        session_id = runner.open()
        future = runner.set_intensity(mso, by="Tina Tech")
        try:
            outcome: object = future.result(timeout=30)
        except Exception as exc:
            outcome = exc
    finally:
        runner.close()
    return session_id, outcome


def test_a_refused_set_is_in_the_record_with_the_devices_reason(db_path: Path) -> None:
    _, plan = new_patient(db_path)
    refusal = CommandRefused("The device refused SET: a value is out of range or malformed.", "BAD_VALUE")
    adapter = AnsweringAdapter({"SET": refusal})
    session_id, outcome = run_commands(db_path, plan, adapter, 60)
    assert outcome is refusal  # the widget gets the refusal to say in words
    assert adapter.sent == [("SET", (60,))]
    assert command_events(db_path, session_id) == [
        ("SET", {"outcome": "sent", "args": [60]}, "Tina Tech"),
        ("SET", {"outcome": "refused", "args": [60], "reason": "BAD_VALUE",
                 "message": "The device refused SET: a value is out of range or malformed."}, "Tina Tech"),
    ]


@pytest.mark.parametrize(("answer", "supported", "result", "outcomes"), [
    (None, True, True, ["sent", "acknowledged"]),
    (CommandTimeout("The device did not answer SET in time."), True, CommandTimeout, ["sent", "timed_out"]),
    (CommandUnsupported("The device does not offer SET."), True, False, ["sent", "unsupported"]),
    (None, False, False, ["unsupported"]),  # never sent: the adapter knows the device takes no SET
])
def test_every_answer_to_set_is_recorded(db_path: Path, answer, supported, result, outcomes) -> None:
    _, plan = new_patient(db_path)
    adapter = AnsweringAdapter({"SET": answer}, supported={"SET"} if supported else set())
    session_id, outcome = run_commands(db_path, plan, adapter, 60)
    if isinstance(result, type):
        assert isinstance(outcome, result)
    else:
        assert outcome is result
    events = command_events(db_path, session_id)
    assert [d["outcome"] for _, d, _ in events] == outcomes
    assert all(code == "SET" and d["args"] == [60] for code, d, _ in events)


class LateStopAnswer(AnsweringAdapter):
    """A device whose end of run (EOS) reaches the host before its acknowledgement of the STOP
    that caused it, as a real link may deliver them."""

    def __init__(self) -> None:
        super().__init__({"START": None, "STOP": None})
        self._events: queue.SimpleQueue[DeviceEvent] = queue.SimpleQueue()

    def events(self, idle_timeout: float | None = None) -> Iterator[DeviceEvent]:
        try:
            yield self._events.get(timeout=idle_timeout)
        except queue.Empty:
            return

    def command(self, name: str, *args: object, timeout: float = 2.0) -> None:
        super().command(name, *args, timeout=timeout)
        if name == "START":  # the device begins its run
            self._events.put(Train(10, time.monotonic(), 1, "START", 30))
        if name == "STOP":
            self._events.put(EndOfSession(1000, time.monotonic(), 0, "STOPPED"))
            time.sleep(0.3)  # the ACK comes after the EOS has been read


def _eventually(check: Callable[[], bool], within_s: float = 30.0) -> bool:
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_answer_to_stop_is_in_the_record_even_when_the_end_of_run_overtakes_it(db_path: Path) -> None:
    _, plan = new_patient(db_path)
    adapter = LateStopAnswer()
    runner = SessionRunner(db_path, adapter, plan)
    try:
        session_id = runner.open()
        runner.start(by="Tina Tech").result(timeout=30)
        assert _eventually(lambda: runner.snapshot().state == "running")
        runner.stop("Patient asked to stop", by="Tina Tech").result(timeout=30)
        assert runner.wait_until_ended(timeout=30)
    finally:
        runner.close()
    stops = [d["outcome"] for code, d, _ in command_events(db_path, session_id) if code == "STOP"]
    assert stops == ["sent", "acknowledged"]
    db = open_database(db_path)
    try:
        last = db.execute("SELECT kind FROM session_events WHERE session_id = ? ORDER BY id DESC LIMIT 1",
                          [session_id]).fetchone()
    finally:
        db.close()
    assert last == ("end",)  # the end stays the record's last word
