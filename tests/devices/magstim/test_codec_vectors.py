"""The Magstim framing, byte for byte, from the worked examples and command table of VENDORS.md §1.2."""

from __future__ import annotations

import pytest

from devices import events as ev
from devices.magstim.codec import Receiver, checksum, encode, parse_reply
from devices.magstim.rules import ARMED, COIL_PRESENT, READY, REMOTE, SINGLE_PULSE, STANDBY, Unit

RAPID9 = Unit("rapid", (9, 4, 0))


def reply(body: bytes) -> bytes:
    return body + bytes([checksum(body)])


def test_worked_example_power_50() -> None:
    # 0x40+0x30+0x35+0x30 = 0xD5; ~0xD5 & 0xFF = 0x2A '*'
    assert checksum(b"@050") == 0x2A
    assert encode("@", "050") == bytes.fromhex("40 30 35 30 2A")


@pytest.mark.parametrize(("letter", "data", "frame"), [
    ("Q", "@", b"Q@n"), ("R", "@", b"R@m"), ("E", "B", b"EBx"), ("E", "A", b"EAy"), ("E", "H", b"EHr"),
    ("J", "@", b"J@u"), ("F", "@", b"F@y"), ("\\", "@", b"\\@c"), ("N", "D", b"NDm"), ("I", "@", b"I@v"),
    ("x", "@", b"x@G"), ("^", "@", b"^@a"), ("_", "@", b"_@\x60"), ("b", "@", b"b@]"), ("o", "@", b"o@P"),
    ("Y", "@", b"Y@f"), ("Z", "@", b"Z@e"), ("X", "@", b"X@g"),
])
def test_command_table_frames(letter: str, data: str, frame: bytes) -> None:
    assert encode(letter, data) == frame


def test_status_bits_and_rapid_byte() -> None:
    instr = READY | COIL_PRESENT | REMOTE
    r = parse_reply(RAPID9, reply(b"[" + bytes([instr, SINGLE_PULSE])))
    assert r is not None and r.instr == instr and r.rapid == SINGLE_PULSE and r.error is None
    assert STANDBY == 1 and ARMED == 2 and READY == 4 and REMOTE == 0x80


def test_error_replies() -> None:
    assert parse_reply(RAPID9, b"?") == ("?", "command", None, None, ())
    assert parse_reply(RAPID9, reply(b"@?")).error == "data"  # type: ignore[union-attr]
    assert parse_reply(RAPID9, reply(b"ES")).error == "state"  # type: ignore[union-attr]
    assert parse_reply(RAPID9, b"ES\x00") is None  # wrong checksum


def test_rapid_parameters_reply_sizes_follow_the_version() -> None:
    v9 = reply(b"\\" + bytes([0x8C, 0x38]) + b"060" + b"0100" + b"00040" + b"0040" + b"0005")
    assert len(v9) == 24
    r = parse_reply(RAPID9, v9)
    assert r is not None and r.values == (60, 100, 40, 40, 5)
    v8 = reply(b"\\" + bytes([0x8C, 0x38]) + b"060" + b"0100" + b"0040" + b"040" + b"0005")
    assert len(v8) == 22
    assert parse_reply(Unit("rapid", (8, 0, 0)), v8) is not None
    assert parse_reply(RAPID9, v8[:-1] + b"x") is None


def test_out_of_range_and_non_digits_are_rejected() -> None:
    assert parse_reply(Unit("200"), reply(b"J" + bytes([0x88]) + b"111000000")) is None  # power 111
    assert parse_reply(Unit("200"), reply(b"J" + bytes([0x88]) + b"0a0000000")) is None
    assert parse_reply(Unit("200"), reply(b"F" + bytes([0x88]) + b"24023")) is None  # short


def test_version_reply_as_magpy_reads_it() -> None:
    r = Receiver(Unit("rapid"))
    r.sent(encode("N", "D"), 0.0)
    events = r.feed(reply(b"NV9.4.0\x00"), 0.01)
    assert r.received == 1 and r.unit.version == (9, 4, 0)
    hello = events[0]
    assert isinstance(hello, ev.Hello) and hello.firmware == "9.4.0" and hello.vendor == "Magstim"


def test_one_fire_is_one_pulse_at_the_commanded_time() -> None:
    r = Receiver(Unit("200"))
    r.sent(encode("J"), 0.0)
    r.feed(reply(b"J" + bytes([0x8C]) + b"045000010"), 0.01)
    r.sent(encode("E", "H"), 1.5)
    events = r.feed(reply(b"E" + bytes([0x8C])), 1.52)
    pulses = [e for e in events if isinstance(e, ev.Pulse)]
    assert [(p.count, p.mso, p.host_t) for p in pulses] == [(1, 45, 1.5)]


def test_a_rapid_train_is_its_pulses_and_a_disarm_cuts_it() -> None:
    r = Receiver(RAPID9)
    r.sent(encode("\\"), 0.0)
    r.feed(reply(b"\\" + bytes([0x8C, 0x30]) + b"060" + b"0100" + b"00040" + b"0040" + b"0005"), 0.02)
    r.sent(encode("E", "H"), 1.0)
    out = r.feed(reply(b"E" + bytes([0x8C])), 1.01)
    out += r.tick(1.25)  # pulses at 1.0, 1.1, 1.2 are due
    r.sent(encode("E", "A"), 1.25)
    out += r.feed(reply(b"E" + bytes([0x8C])), 1.26)
    out += r.tick(10.0)
    kinds = [(type(e).__name__, getattr(e, "phase", None)) for e in out]
    assert kinds[0] == ("Train", "START")
    assert [e.count for e in out if isinstance(e, ev.Pulse)] == [1, 2, 3]
    end = [e for e in out if isinstance(e, ev.Train) and e.phase == "END"]
    assert len(end) == 1 and end[0].pulses == 3
    assert [e.device_t for e in out if isinstance(e, ev.Pulse)] == [1000, 1100, 1200]
