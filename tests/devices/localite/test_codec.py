"""The receiver on the messages VENDORS.md §1.3 gives (ctrl-localite's mock and client), split
anywhere: poses only while the coil and the reference are seen, BLOCKED noise counted apart,
di/dt as pulses, bad values rejected and never turned into a value."""

from __future__ import annotations

import pytest

from devices import events as ev
from devices.localite.codec import Receiver
from devices.localite.scanner import MAX_OBJECT

from .support import SEEN, msg, position


def feed_bytewise(receiver: Receiver, data: bytes) -> list[ev.DeviceEvent]:
    out: list[ev.DeviceEvent] = []
    for i in range(len(data)):
        out += receiver.feed(data[i:i + 1], host_t=10.0)
    return out


def test_a_seen_coil_gives_its_head_frame_pose_whatever_the_split() -> None:
    data = SEEN + position(-42.1, 38.55, 61.2, 0.9239, 0.0, 0.3827, 0.0)
    for events in (Receiver().feed(data, 10.0), feed_bytewise(Receiver(), data)):
        assert isinstance(events[0], ev.Hello) and events[0].vendor == "Localite"
        pose = events[-1]
        assert isinstance(pose, ev.Pose) and pose.visible and pose.quality == 1.0
        assert (pose.x, pose.y, pose.z) == (-42.1, 38.55, 61.2)
        assert pose.qw == pytest.approx(0.9239, abs=1e-4) and pose.qy == pytest.approx(0.3827, abs=1e-4)
        quat = (pose.qw, pose.qx, pose.qy, pose.qz)
        assert sum(c * c for c in quat if c is not None) == pytest.approx(1.0)  # made exactly unit


@pytest.mark.parametrize("hidden", [
    msg({"coil_0_status": "BLOCKED"}),
    msg({"reference_status": "BLOCKED"}),
    msg({"patient_registration_status": "NOT_REGISTERED"}),
])
def test_no_pose_while_the_coil_or_reference_is_hidden_or_the_patient_unregistered(hidden: bytes) -> None:
    r = Receiver()
    events = r.feed(SEEN + hidden + position(1.0, 2.0, 3.0), 10.0)
    got = [e for e in events if isinstance(e, ev.Pose)]
    # the change itself is a no-pose at once, then the position that follows is no pose either
    assert [p.visible for p in got] == [False, False]
    assert all(p.quality == 0.0 and p.x is None and p.qw is None for p in got)
    seen_again = r.feed(SEEN + position(1.0, 2.0, 3.0), 11.0)
    assert [p.visible for p in seen_again if isinstance(p, ev.Pose)] == [True]


def test_nothing_is_a_pose_before_navigator_said_the_coil_and_reference_are_seen() -> None:
    events = Receiver().feed(position(1.0, 2.0, 3.0), 10.0)
    assert [e.visible for e in events if isinstance(e, ev.Pose)] == [False]


def test_blocked_status_noise_is_counted_apart_and_is_no_error() -> None:
    r = Receiver()
    noise = b"".join(msg({k: "BLOCKED"}) for k in ("pointer_status", "reference_status",
                                                    "coil_1_status", "coil_0_status"))
    events = r.feed(noise, 10.0)
    assert [type(e) for e in events] == [ev.Hello]  # the coil was never seen: no pose to take back
    assert (r.received, r.rejected, r.blocked, r.errors) == (4, 0, 4, 0)


def test_didt_after_each_pulse_is_a_pulse_with_the_amplitude_and_a_running_count() -> None:
    r = Receiver()
    events = r.feed(msg({"coil_0_amplitude": 45}) + msg({"coil_0_didt": 11}) + msg({"coil_0_didt": 72}),
                    10.0)
    assert next(e for e in events if isinstance(e, ev.Intensity)).mso == 45
    pulses = [e for e in events if isinstance(e, ev.Pulse)]
    assert [(p.count, p.mso, p.didt) for p in pulses] == [(1, 45, 11.0), (2, 45, 72.0)]
    # the same amplitude again is no new Intensity
    assert not [e for e in r.feed(msg({"coil_0_amplitude": 45}), 11.0) if isinstance(e, ev.Intensity)]


def test_state_keeps_temperature_position_reached_and_coil_type() -> None:
    r = Receiver()
    r.feed(msg({"coil_0_temperature": 35}) + msg({"coil_0_position_control": {
        "position_reached": "TRUE", "index": 1}}) + msg({"coil_0_type": "Mock0704"}), 10.0)
    s = r.state
    assert (s.temperature_c, s.position_reached, s.target_index, s.coil_type) == (35.0, True, 1, "Mock0704")


def test_navigator_error_answers_are_counted_and_a_refused_position_is_no_pose() -> None:
    r = Receiver()
    r.feed(SEEN, 10.0)
    refused = {"request": {"coil_0_target_index": 9},
               "reason": "Index value out of range. Value: 9, Range: [0..0]"}
    events = r.feed(msg({"error": {"get": "coil_0_position"}}) + msg(refused), 11.0)
    assert [e.visible for e in events if isinstance(e, ev.Pose)] == [False]
    assert (r.errors, r.rejected) == (2, 0)


@pytest.mark.parametrize("bad", [
    msg({"coil_0_amplitude": 250}),                     # out of range
    msg({"coil_0_amplitude": True}),                    # wrong type
    msg({"coil_0_didt": -3}),
    msg({"coil_0_temperature": "hot"}),
    msg({"coil_0_status": 1}),
    # ctrl-localite's own mock sends q = 17, 17, 17, 17: not a rotation, so never a pose
    position(37, 77, 53, 17.0, 17.0, 17.0, 17.0),
    position(1e6, 0, 0),
    b'{"coil_0_position": {"q0": 1, "qx": 0, "qy": 0, "qz": 0, "x": NaN, "y": 0, "z": 0}}',
    b'{"coil_0_position": {"x": 1, "y": 2, "z": 3}}',
    b'{"coil_0_amplitude": 45,}',                       # not JSON
    b'{"coil_0_amplitude": "\xff"}',                     # not text
    b'{"coil_0_amplitude": 1' + b"0" * 1000 + b"}",     # an integer no float holds
    b'{"coil_0_didt": 1e999}',                          # infinity by another name
    b'{"a": ' + b"[" * 3000 + b"]" * 3000 + b"}",       # nested past what json reads
])
def test_bad_values_are_rejected_kept_and_never_become_a_value(bad: bytes) -> None:
    r = Receiver()
    events = r.feed(SEEN + bad + msg({"coil_0_amplitude": 40}), 10.0)
    assert (r.rejected, list(r.rejected_lines)) == (1, [bad[:64]])
    assert [e.mso for e in events if isinstance(e, ev.Intensity)] == [40]
    assert not [e for e in events if isinstance(e, ev.Pose | ev.Pulse)]


def test_strings_holding_braces_quotes_and_escapes_do_not_cut_an_object() -> None:
    tricky = b'{"coil_0_type": "Cool-B65 {x} \\"}\\" \\\\"}'
    r = Receiver()
    feed_bytewise(r, tricky + msg({"coil_0_amplitude": 40}))
    assert (r.received, r.rejected, r.state.coil_type) == (2, 0, 'Cool-B65 {x} "}" \\')


def test_garbage_between_objects_is_one_rejected_piece_up_to_the_next_brace() -> None:
    r = Receiver()
    r.feed(b'  \r\n' + msg({"coil_0_amplitude": 40}) + b' \n noise } ]' + msg({"coil_0_amplitude": 41}), 1.0)
    assert (r.received, r.rejected, list(r.rejected_lines)) == (2, 1, [b"noise } ]"])


def test_a_runaway_object_is_cut_at_the_size_limit_and_the_next_object_read() -> None:
    r = Receiver()
    runaway = b'{"log": "' + b"x" * (MAX_OBJECT * 3)
    events = feed_in(r, runaway + msg({"coil_0_amplitude": 40}), 1000)
    assert (r.received, r.rejected) == (1, 1)
    assert r.rejected_lines[0] == runaway[:64]
    assert [e.mso for e in events if isinstance(e, ev.Intensity)] == [40]


def feed_in(r: Receiver, data: bytes, size: int) -> list[ev.DeviceEvent]:
    out: list[ev.DeviceEvent] = []
    for i in range(0, len(data), size):
        out += r.feed(data[i:i + size], 1.0)
    return out


def test_the_other_coils_messages_are_ignored_and_coil_1_is_read_when_asked() -> None:
    r0, r1 = Receiver(0), Receiver(1)
    data = (msg({"patient_registration_status": "REGISTERED"}) + msg({"reference_status": "OK"})
            + msg({"coil_1_status": "OK"}) + position(5, 6, 7, coil=1) + msg({"coil_1_didt": 50}))
    assert not [e for e in r0.feed(data, 1.0) if isinstance(e, ev.Pose | ev.Pulse)]
    got = [e for e in r1.feed(data, 1.0) if isinstance(e, ev.Pose | ev.Pulse)]
    assert [type(e) for e in got] == [ev.Pose, ev.Pulse]
    assert isinstance(got[0], ev.Pose) and got[0].visible


def test_a_new_connection_drops_a_torn_object_and_needs_visibility_again() -> None:
    r = Receiver()
    r.feed(SEEN + b'{"coil_0_posi', 1.0)
    r.new_connection()
    events = r.feed(position(1, 2, 3), 2.0)
    assert r.rejected == 1
    assert [e.visible for e in events if isinstance(e, ev.Pose)] == [False]


def test_device_time_is_host_milliseconds_since_the_first_byte() -> None:
    r = Receiver()
    r.feed(msg({"coil_0_amplitude": 40}), 100.0)
    (event,) = r.feed(msg({"coil_0_amplitude": 41}), 101.25)
    assert isinstance(event, ev.Intensity) and event.device_t == 1250
