"""replay:// plays a capture file back through the same receiver as a live link."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices import events as ev
from devices.adapter import CommandUnsupported, DeviceError
from devices.registry import create_adapter
from devices.replay import ReplayAdapter
from devices.tscp import encode_frame


def write_capture(path: Path, *extra: bytes) -> Path:
    frames = [
        encode_frame(0, "HELLO", ["TSCP/1", "Acme Neuro", "SIM-1", "SN0001", "1.0.0"]),
        encode_frame(1, "PONG", [900]),  # link-level: consumed, not an event
        encode_frame(2, "STAT", [1000, "RUNNING", 62, "", ""]),
        encode_frame(3, "PULSE", [1010, 1, 62, "141.0"]),
        b"garbage\r\n",
        encode_frame(5, "PULSE", [1020, 2, 62, "141.5"]),  # seq 4 was lost
        encode_frame(6, "ACK", ["START"]),
        encode_frame(7, "EOS", [1030, 2, "COMPLETE"]),
        *extra,
    ]
    path.write_bytes(b"".join(frames))
    return path


def test_replay_gives_the_events_and_counts_of_the_capture(tmp_path: Path) -> None:
    adapter = ReplayAdapter(write_capture(tmp_path / "a.tscp"))
    adapter.open()
    assert adapter.identity is not None  # known once open() returns, as for a live device
    got = list(adapter.events())  # ends at the end of the file
    adapter.close()
    assert [type(e) for e in got] == [ev.Hello, ev.Status, ev.Pulse, ev.Pulse, ev.EndOfSession]
    assert [e.count for e in got if isinstance(e, ev.Pulse)] == [1, 2]
    assert adapter.identity is not None and adapter.identity.model == "SIM-1"
    counters = adapter.counters()
    assert (counters.received, counters.rejected, counters.missing) == (7, 1, 1)
    assert counters.rejected_lines == (b"garbage",)


def test_a_consumer_that_stops_loses_nothing(tmp_path: Path) -> None:
    adapter = ReplayAdapter(write_capture(tmp_path / "a.tscp"))
    adapter.open()
    first = next(iter(adapter.events()))
    rest = list(adapter.events())
    adapter.close()
    assert [type(e) for e in [first, *rest]] == [ev.Hello, ev.Status, ev.Pulse, ev.Pulse, ev.EndOfSession]


def test_realtime_replay_follows_device_time_and_can_be_interrupted(tmp_path: Path) -> None:
    adapter = create_adapter(f"replay://{write_capture(tmp_path / 'a.tscp')}?realtime=1")
    assert isinstance(adapter, ReplayAdapter) and adapter.realtime
    adapter.open()
    got: list = []
    while not (got and isinstance(got[-1], ev.EndOfSession)):
        # an idle timeout shorter than the 10 ms gaps: events() returns between them, losing none
        got += list(adapter.events(idle_timeout=0.001))
    adapter.close()
    assert [type(e) for e in got] == [ev.Hello, ev.Status, ev.Pulse, ev.Pulse, ev.EndOfSession]
    assert [e.host_t for e in got] == sorted(e.host_t for e in got)  # stamped as played


def test_close_stops_a_replay(tmp_path: Path) -> None:
    adapter = ReplayAdapter(write_capture(tmp_path / "a.tscp"))
    adapter.open()
    adapter.close()
    adapter.close()
    assert list(adapter.events()) == []


def test_a_missing_capture_file_is_a_clear_error(tmp_path: Path) -> None:
    adapter = create_adapter(f"replay://{tmp_path}/nothing.tscp")
    with pytest.raises(DeviceError, match=r"^Cannot open the capture file .*nothing\.tscp: No such file"):
        adapter.open()


def test_a_replay_takes_no_commands(tmp_path: Path) -> None:
    adapter = ReplayAdapter(write_capture(tmp_path / "a.tscp"))
    assert not adapter.supports("START")
    with pytest.raises(CommandUnsupported, match="cannot take commands"):
        adapter.command("START")


def test_replay_address_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match="must be 1 or 0"):
        create_adapter(f"replay://{tmp_path}/a.tscp?realtime=maybe")
    with pytest.raises(DeviceError, match=r"Unknown option 'speed'.*known options: realtime"):
        create_adapter(f"replay://{tmp_path}/a.tscp?speed=2")
    with pytest.raises(DeviceError, match="names no file"):
        create_adapter("replay://")
    relative = create_adapter("replay://captures/monday.tscp")
    assert isinstance(relative, ReplayAdapter) and relative.path == Path("captures/monday.tscp")


def test_exhausted_only_once_the_last_event_is_taken(tmp_path: Path) -> None:
    """A finite source says when it has nothing more, so a session ends there (no EOS needed)."""
    path = tmp_path / "a.tscp"
    path.write_bytes(write_capture(path).read_bytes().rsplit(b"$7,EOS", 1)[0])  # no end of session
    adapter = ReplayAdapter(path)
    adapter.open()
    got = []
    for event in adapter.events():
        assert not adapter.exhausted  # the consumer still holds an event
        got.append(event)
    assert adapter.exhausted
    adapter.close()
    assert [type(e) for e in got] == [ev.Hello, ev.Status, ev.Pulse, ev.Pulse]


@pytest.mark.parametrize("content", [b"", b"garbage\r\n", encode_frame(0, "PONG", [900])],
                         ids=["empty", "garbage", "link-level only"])
def test_a_capture_with_no_device_events_is_refused_at_open(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "nothing.tscp"
    path.write_bytes(content)
    adapter = ReplayAdapter(path)
    with pytest.raises(DeviceError, match=r"^The capture file .*nothing\.tscp holds no device events"):
        adapter.open()
    adapter.close()
