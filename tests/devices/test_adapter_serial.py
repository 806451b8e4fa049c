"""The serial adapter against a scripted device on a real pty, read through pyserial."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import serial

from devices import events as ev
from devices.adapter import (
    CommandError,
    CommandRefused,
    CommandTimeout,
    CommandUnsupported,
    DeviceAdapter,
    DeviceError,
)
from devices.replay import ReplayAdapter
from devices.serial_adapter import SerialAdapter
from tests.devices.pty_device import HELLO, PtyDevice, wait_until

POSE = ("-42.10", "38.55", "61.20", "0.9239", "0.0000", "0.3827", "0.0000", "0.98")


@pytest.fixture
def device(tmp_path: Path):
    dev = PtyDevice(tmp_path / "ttyTMS0")
    dev.plug_in()
    yield dev
    dev.close()


@pytest.fixture
def make_adapter(device: PtyDevice):
    made: list[SerialAdapter] = []

    def make(**options: object) -> SerialAdapter:
        # generous silence: only the tests about silence depend on it
        options.setdefault("silence_timeout", 20.0)
        adapter = SerialAdapter(str(device.link), **options)  # type: ignore[arg-type]
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


def collect(adapter: DeviceAdapter, until: type, timeout: float = 20.0) -> list:
    """Events until one of type ``until`` arrived (inclusive)."""
    got: list = []

    def arrived() -> bool:
        for event in adapter.events(idle_timeout=0.05):
            got.append(event)
            if isinstance(event, until):
                return True
        return False

    wait_until(arrived, timeout, f"a {until.__name__} event")
    return got


def opened(make_adapter, device: PtyDevice, **options: object) -> SerialAdapter:
    """An open adapter whose greeting (ID? -> HELLO) is done."""
    adapter = make_adapter(**options)
    adapter.open()
    wait_until(lambda: "ID?" in device.names(), what="ID? from the adapter")
    collect(adapter, ev.Hello)
    return adapter


def test_every_event_arrives_typed_and_in_order(make_adapter, device: PtyDevice) -> None:
    adapter = opened(make_adapter, device)
    assert adapter.identity is not None and adapter.identity.serial == HELLO[3]
    device.send("STAT", 1000, "ARMED", 62, "31.5", "C-B60")
    device.send("PROTO", 1001, "10hz", "10", 40, 75, "26", 1)
    device.send("INT", 1002, 62)
    device.send("POSE", 1003, *POSE)
    device.send("POSE", 1004, "", "", "", "", "", "", "", "0.00")
    device.send("TRAIN", 1005, 1, "START", 40)
    device.send("PULSE", 1006, 1, 62, "142.5")
    device.send("PULSE", 1106, 2, 62, "")
    device.send("TRAIN", 1107, 1, "END", 2)
    device.send("FAULT", 1200, "COIL_OVERTEMP", "coil above 40 C")
    device.send("CLEAR", 1300, "COIL_OVERTEMP")
    device.send("EOS", 1400, 2, "STOPPED")
    got = collect(adapter, ev.EndOfSession)
    assert [type(e) for e in got] == [
        ev.Status, ev.ProtocolLoaded, ev.Intensity, ev.Pose, ev.Pose, ev.Train, ev.Pulse, ev.Pulse,
        ev.Train, ev.Fault, ev.Cleared, ev.EndOfSession,
    ]
    status, proto, _int, pose, hidden, _start, pulse, bare, end, fault, _clear, eos = got
    assert status.state == "ARMED" and status.coil_temp_c == 31.5 and status.coil_id == "C-B60"
    assert proto.planned_pulses == 3000 and proto.iti_s == 26.0
    assert pose.visible and pose.x == -42.10 and pose.quality == 0.98
    assert not hidden.visible and hidden.x is None and hidden.quality == 0.0
    assert (pulse.device_t, pulse.count, pulse.mso, pulse.didt) == (1006, 1, 62, 142.5)
    assert bare.didt is None
    assert (end.phase, end.pulses) == ("END", 2)
    assert fault.code == "COIL_OVERTEMP" and eos.reason == "STOPPED"
    assert all(isinstance(e.host_t, float) for e in got)
    counters = adapter.counters()
    assert counters.rejected == 0 and counters.missing == 0


def test_open_returns_knowing_who_the_device_is(make_adapter, device: PtyDevice) -> None:
    adapter = make_adapter()
    adapter.open()
    assert adapter.identity == ev.Hello(None, adapter.identity.host_t, *HELLO)
    assert isinstance(collect(adapter, ev.Hello)[0], ev.Hello)  # and the HELLO is an event too


def test_open_on_a_silent_device_returns_after_the_hello_timeout(make_adapter, device: PtyDevice) -> None:
    device.answer_id = False
    adapter = make_adapter(hello_timeout=0.2)
    adapter.open()
    assert adapter.identity is None


def test_pings_every_interval_and_pongs_stay_inside(make_adapter, device: PtyDevice) -> None:
    adapter = opened(make_adapter, device, ping_interval=0.05)
    wait_until(lambda: device.names().count("PING") >= 3, what="three PINGs")
    device.send("INT", 5, 60)
    got = collect(adapter, ev.Intensity)
    assert got == [ev.Intensity(5, got[0].host_t, 60)]  # no Pong among the events
    # the host numbers its own frames: the device saw no gap
    assert device.host_receiver.missing == 0 and device.host_receiver.rejected == 0


def test_bad_frames_are_counted_kept_and_never_become_events(make_adapter, device: PtyDevice) -> None:
    adapter = opened(make_adapter, device)
    before = adapter.counters()
    device.write(b"\x00\xffgarbage\r\n")
    good = device.frame("INT", 7, 55)
    device.write(good[:-8] + b"0000\r\n")  # wrong CRC: rejected, then missing once
    device.send("INT", 8, 56)
    got = collect(adapter, ev.Intensity)
    assert [e.mso for e in got] == [56]
    counters = adapter.counters()
    assert counters.rejected - before.rejected == 2
    assert counters.missing - before.missing == 1
    assert counters.rejected_lines[-2:] == (b"\x00\xffgarbage", good[:-8].rstrip(b"\r\n") + b"0000")


def test_commands_ack_nak_and_timeout(make_adapter, device: PtyDevice) -> None:
    device.answers.update(
        START=("NAK", "BAD_STATE"), SET=("NAK", "BAD_VALUE"), PAUSE=("NAK", "UNSUPPORTED"), STOP=None,
    )
    adapter = opened(make_adapter, device)
    adapter.command("LOAD", "10hz", 10.0, 40, 75, 26, 1)
    load = next(c for c in device.commands if c.command == "LOAD")
    assert load.args == ("10hz", 10.0, 40, 75, 26.0, 1)

    with pytest.raises(CommandRefused) as refused:
        adapter.command("START")
    assert refused.value.reason == "BAD_STATE" and "START" in str(refused.value)
    with pytest.raises(CommandRefused) as refused:
        adapter.command("SET", 62)
    assert refused.value.reason == "BAD_VALUE"

    assert adapter.supports("PAUSE")
    with pytest.raises(CommandUnsupported, match="does not support PAUSE"):
        adapter.command("PAUSE")
    assert not adapter.supports("PAUSE")
    sent = device.names().count("PAUSE")
    with pytest.raises(CommandUnsupported):
        adapter.command("PAUSE")
    assert device.names().count("PAUSE") == sent  # remembered, not asked again

    with pytest.raises(CommandTimeout, match=r"did not answer STOP within 0\.3 s"):
        adapter.command("STOP", timeout=0.3)


def test_bad_command_input_is_refused_before_sending(make_adapter, device: PtyDevice) -> None:
    adapter = opened(make_adapter, device)
    with pytest.raises(CommandRefused, match="not a valid SET"):
        adapter.command("SET", 150)
    with pytest.raises(CommandRefused):
        adapter.command("LOAD", "10hz", 10)  # fields missing
    with pytest.raises(CommandRefused):
        adapter.command("LOAD", "a,b", 10, 40, 75, 26, 1)  # a comma would break the frame
    with pytest.raises(CommandUnsupported):
        adapter.command("FIRE")
    assert not adapter.supports("FIRE")
    assert [n for n in device.names() if n not in ("ID?", "PING")] == []


def test_commands_from_many_threads_are_matched(make_adapter, device: PtyDevice) -> None:
    adapter = opened(make_adapter, device)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            for _ in range(10):
                adapter.command(name, timeout=10.0)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("START", "PAUSE", "RESUME", "STOP")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(device.names().count(n) for n in ("START", "PAUSE", "RESUME", "STOP")) == 40
    assert device.host_receiver.missing == 0 and device.host_receiver.rejected == 0


def test_hang_up_gives_device_lost_and_a_new_pty_device_restored(make_adapter, device: PtyDevice) -> None:
    adapter = opened(make_adapter, device)
    device.send("PULSE", 100, 1, 62, "")
    collect(adapter, ev.Pulse)

    device.hang_up()  # the cable is pulled
    lost = collect(adapter, ev.DeviceLost)
    assert len(lost) == 1 and "unplugged" in lost[0].reason
    with pytest.raises(CommandError, match="not connected"):
        adapter.command("START")

    ids_before = device.names().count("ID?")
    device.plug_in()  # a new pty behind the same symlink
    back = collect(adapter, ev.Hello)
    assert [type(e) for e in back] == [ev.DeviceRestored, ev.Hello]
    assert device.names().count("ID?") > ids_before  # the adapter asked who is there

    device.send("PULSE", 5000, 30, 62, "")  # the count jumped: the pulses of the outage are lost
    after = collect(adapter, ev.Pulse)
    assert [(type(e), getattr(e, "count", None)) for e in after] == [(ev.Pulse, 30)]
    assert adapter.counters().missing == 0  # a new connection starts a new sequence
    adapter.command("START")  # commands work again


def test_a_different_device_at_the_same_path_is_not_recorded(
    make_adapter, device: PtyDevice, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = opened(make_adapter, device)
    device.hang_up()
    assert [type(e) for e in collect(adapter, ev.DeviceLost)] == [ev.DeviceLost]

    device.hello = ("TSCP/1", "Other Co", "X-2", "SN0002", "2.0")  # another stimulator on that port
    device.plug_in()
    wait_until(lambda: "a different device answered" in caplog.text, what="the adapter to notice")
    device.send("PULSE", 100, 1, 62, "")
    assert list(adapter.events(idle_timeout=0.3)) == []  # nothing of it reaches the record
    assert adapter.identity is not None and adapter.identity.serial == "SN0001"

    device.hang_up()
    device.hello = HELLO  # ours is back
    device.plug_in()
    back = collect(adapter, ev.Hello)
    assert [type(e) for e in back] == [ev.DeviceRestored, ev.Hello]


def test_a_pty_that_hung_up_is_not_reopened_under_its_number(
    device: PtyDevice, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = SerialAdapter(device.tty, silence_timeout=20.0)  # the pty itself, not the symlink
    try:
        adapter.open()
        old = device.tty
        device.hang_up()
        collect(adapter, ev.DeviceLost)
        asked = device.names().count("ID?")
        for _ in range(10):  # the kernel hands out the lowest free number: usually the same one
            device.plug_in()
            if device.tty == old:
                break
            device.hang_up()
        else:
            pytest.skip("the machine gave the pty's number to another program meanwhile")
        wait_until(lambda: "is gone" in caplog.text, what="the adapter to refuse the new pty")
        assert list(adapter.events(idle_timeout=0.3)) == []
        assert device.names().count("ID?") == asked  # it never talked to the stranger
    finally:
        adapter.close()


def test_a_second_adapter_on_the_same_port_is_refused(make_adapter, device: PtyDevice) -> None:
    opened(make_adapter, device)
    with pytest.raises(DeviceError, match="in use by another program"):
        make_adapter().open()


def test_silence_gives_device_lost_then_restored(make_adapter, device: PtyDevice) -> None:
    adapter = opened(make_adapter, device, silence_timeout=0.5, ping_interval=0.1)
    device.answer_pings = device.answer_id = False  # the device stops talking; the port stays
    lost = collect(adapter, ev.DeviceLost)
    assert [type(e) for e in lost] == [ev.DeviceLost] and "no frame" in lost[0].reason
    device.answer_pings = device.answer_id = True
    back = collect(adapter, ev.DeviceRestored)
    assert [type(e) for e in back] == [ev.DeviceRestored]


def test_open_an_absent_port_says_why(tmp_path: Path) -> None:
    adapter = SerialAdapter(str(tmp_path / "ttyUSB9"))
    with pytest.raises(DeviceError, match=r"^Cannot open .*ttyUSB9: No such file or directory\.$"):
        adapter.open()
    adapter.close()


def test_close_ends_a_waiting_consumer_and_is_idempotent(make_adapter, device: PtyDevice) -> None:
    adapter = opened(make_adapter, device)
    seen: list = []
    consumer = threading.Thread(target=lambda: seen.extend(adapter.events()))
    consumer.start()
    device.send("INT", 1, 50)
    wait_until(lambda: seen, what="the event")
    adapter.close()
    consumer.join(timeout=20)
    assert not consumer.is_alive()
    adapter.close()
    assert list(adapter.events()) == []


def test_events_not_taken_stay_for_the_next_call(make_adapter, device: PtyDevice) -> None:
    adapter = opened(make_adapter, device)
    for i in range(5):
        device.send("INT", i, 50 + i)
    wait_until(lambda: adapter.counters().received >= 6, what="five frames")
    first = []
    for event in adapter.events(idle_timeout=1.0):
        first.append(event.mso)
        if len(first) == 2:
            break
    rest = [e.mso for e in collect(adapter, ev.Intensity) if isinstance(e, ev.Intensity)]
    while len(first) + len(rest) < 5:
        rest += [e.mso for e in collect(adapter, ev.Intensity)]
    assert first + rest == [50, 51, 52, 53, 54]


def test_an_injected_serial_object_is_used(device: PtyDevice) -> None:
    port = serial.serial_for_url(str(device.link), do_not_open=True)
    adapter = SerialAdapter(port, silence_timeout=20.0)
    try:
        adapter.open()
        assert port.is_open
        device.send("INT", 1, 40)
        assert collect(adapter, ev.Intensity)[-1].mso == 40
    finally:
        adapter.close()
    assert not port.is_open


def test_capture_then_replay_gives_the_same_events(make_adapter, device: PtyDevice, tmp_path: Path) -> None:
    capture = tmp_path / "session.tscp"
    adapter = opened(make_adapter, device, capture=capture)
    device.write(b"noise\r\n")
    for i in range(1, 21):
        device.send("PULSE", 1000 + 100 * i, i, 62, "140.0")
        device.send("POSE", 1000 + 100 * i + 50, *POSE)
    device.seq += 3  # three frames lost on the line
    device.send("EOS", 9999, 20, "COMPLETE")
    live = collect(adapter, ev.EndOfSession)
    live_counters = adapter.counters()
    adapter.close()

    replay = ReplayAdapter(capture)
    replay.open()
    replayed = list(replay.events())
    replay.close()
    without_time = [e._replace(host_t=0.0) for e in live]
    assert [e._replace(host_t=0.0) for e in replayed[-len(live):]] == without_time
    assert isinstance(replayed[0], ev.Hello)  # the greeting before the test's frames, too
    assert replay.counters() == live_counters
    assert live_counters.rejected >= 1 and live_counters.missing == 3
