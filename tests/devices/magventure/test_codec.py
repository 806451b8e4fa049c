"""The MagVenture codec, byte for byte: VENDORS.md's worked example, frames with FE/FF inside,
replies told apart by ID among unsolicited packets, and every kind of bad input counted once."""

from __future__ import annotations

from devices import events as ev
from devices.magventure.codec import Receiver
from devices.magventure.frames import crc8, encode_frame
from devices.magventure.messages import coil_name, decode_command

SB_ENABLED_X100_OPTION = (3 << 5) | 0x10 | (1 << 2)  # model 3, enabled, biphasic


def status(serial: int = 51234, temp: int = 31, coil: int = 72, amp: int = 62, sb: int = 0x64,
           long: bool = False, running: int = 0) -> bytes:
    body = bytes((sb, serial >> 16 & 0xFF, serial >> 8 & 0xFF, serial & 0xFF, temp, coil, amp, 0))
    if long:
        return encode_frame(b"\x05" + body + bytes((amp, 0, 100, 100, 2, running)))
    return encode_frame(b"\x00" + body)


def test_crc_and_frame_match_the_worked_example() -> None:
    # VENDORS.md §1.1: payload 01 3C -> CRC D9, frame FE 02 01 3C D9 FF
    assert crc8(b"\x01\x3c") == 0xD9
    assert encode_frame(b"\x01\x3c") == bytes.fromhex("FE 02 01 3C D9 FF")
    # the check value of CRC-8/MAXIM over "123456789"
    assert crc8(b"123456789") == 0xA1


def test_status_reply_gives_identity_coil_temperature_and_amplitude() -> None:
    r = Receiver()
    events = r.feed(status(), host_t=10.0)
    hello, stat = events
    assert hello == ev.Hello(None, 10.0, "MagVenture MagPro serial", "MagVenture", "MagPro X100 + MagOption",
                             "51234", "not reported")
    assert stat == ev.Status(0, 10.0, "IDLE", 62, 31.0, "C-B60 (type 72)")
    assert (r.received, r.rejected, r.missing) == (1, 0, 0)


def test_fe_and_ff_inside_a_payload_are_data_not_frame_marks() -> None:
    # serial 0xFEFFFE: FE and FF inside the payload; a parser scanning for FF (magicpy) breaks here
    frame = status(serial=0xFEFFFE)
    assert frame.count(0xFE) >= 3 and frame.count(0xFF) >= 2
    r = Receiver()
    pieces = [r.feed(frame[i:i + 1], host_t=1.0) for i in range(len(frame))]  # one byte at a time
    events = [e for p in pieces for e in p]
    assert isinstance(events[0], ev.Hello) and events[0].serial == str(0xFEFFFE)
    assert (r.received, r.rejected) == (1, 0)


def test_replies_are_told_apart_by_id_among_unsolicited_packets() -> None:
    # a status reply arriving between di/dt packets and an amplitude change from the front panel
    didt = encode_frame(bytes((0x02, 97, 0, SB_ENABLED_X100_OPTION)))
    panel = encode_frame(bytes((0x01, 65, 0, SB_ENABLED_X100_OPTION)))
    r = Receiver()
    events = r.feed(status(sb=SB_ENABLED_X100_OPTION) + didt + panel + didt + status(
        sb=SB_ENABLED_X100_OPTION, amp=65, long=True, running=1), host_t=2.0)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["Hello", "Status", "Pulse", "Intensity", "Pulse", "Train", "Status"]
    pulses = [e for e in events if isinstance(e, ev.Pulse)]
    assert [(p.count, p.mso, p.didt) for p in pulses] == [(1, 62, 97.0), (2, 65, 97.0)]
    assert events[3] == ev.Intensity(0, 2.0, 65)
    assert events[-1] == ev.Status(0, 2.0, "RUNNING", 65, 31.0, "C-B60 (type 72)")


def test_train_start_and_end_come_from_id_08() -> None:
    r = Receiver()
    r.feed(status(sb=SB_ENABLED_X100_OPTION), host_t=0.0)
    on = encode_frame(bytes((0x08, 2, 1, SB_ENABLED_X100_OPTION)))
    off = encode_frame(bytes((0x08, 2, 0, SB_ENABLED_X100_OPTION)))
    pulse = encode_frame(bytes((0x02, 90, 0, SB_ENABLED_X100_OPTION)))
    events = r.feed(on + pulse * 3 + off + on + pulse, host_t=1.0)
    trains = [(e.train, e.phase, e.pulses) for e in events if isinstance(e, ev.Train)]
    assert trains == [(1, "START", 0), (1, "END", 3), (2, "START", 0)]


def test_coil_unplugged_is_a_fault_and_cleared_when_a_coil_is_back() -> None:
    r = Receiver()
    r.feed(status(), host_t=0.0)
    out = r.feed(encode_frame(bytes((0x03, 30, 0, 0x60))), host_t=1.0)
    assert coil_name(0) == "unrecognised coil or MRi-B91 (type 0)"
    text = "the stimulator reports no recognised coil (type 0)"
    assert out == [ev.Fault(1000, 1.0, "COIL_DISCONNECTED", text),
                   ev.Status(1000, 1.0, "FAULT", 62, 30.0, coil_name(0))]
    back = r.feed(encode_frame(bytes((0x03, 30, 72, 0x60))), host_t=2.0)
    assert [type(e).__name__ for e in back] == ["Cleared", "Status"]


def test_device_count_reveals_pulses_the_line_lost_never_inventing_pulses() -> None:
    sb = SB_ENABLED_X100_OPTION
    pulse = encode_frame(bytes((0x02, 90, 0, sb)))

    def count(n: int) -> bytes:
        return encode_frame(bytes(9) .replace(b"\x00", b"\x0c", 1) + n.to_bytes(2, "big") + bytes((0, 0, 2)))

    r = Receiver()
    r.feed(status(sb=sb), host_t=0.0)
    r.feed(count(100) + pulse * 5 + count(105), host_t=1.0)  # baseline, then all 5 arrived
    assert r.missing == 0
    r.feed(pulse * 2 + count(110), host_t=2.0)  # the unit gave 5, 2 arrived: not yet confirmed
    assert r.missing == 0
    r.feed(pulse + count(111), host_t=3.0)  # the gap of 3 persists: 3 missing
    assert r.missing == 3
    events = r.feed(pulse, host_t=4.0)
    assert events[0].count == 5 + 2 + 1 + 3 + 1  # received + missing: the jump shows the loss
    assert r.pulses == 9


def test_each_bad_piece_is_counted_once_and_kept() -> None:
    good = status()
    bad_crc = bytearray(encode_frame(bytes((0x01, 50, 0, 0x60))))
    bad_crc[-2] ^= 0xFF
    unknown_id = encode_frame(bytes((0x42, 1, 2, 3)))
    out_of_range = encode_frame(bytes((0x01, 101, 0, 0x60)))  # amplitude 101 %
    wrong_length = encode_frame(bytes((0x02, 90, 0)))  # di/dt without its status byte
    truncated = encode_frame(bytes((0x02, 90, 0, 0x60)))[:4]
    noise = b"\x00\x13\x37"
    stream = b"".join([good, bytes(bad_crc), good, unknown_id, good, out_of_range, good, wrong_length,
                       good, truncated, good, noise, good])
    r = Receiver()
    r.feed(stream, host_t=0.0)
    assert r.received == 7
    assert r.rejected == 6
    assert list(r.rejected_lines) == [bytes(bad_crc), unknown_id, out_of_range, wrong_length, truncated,
                                      noise]
    assert r.amp == 62  # no rejected value became a setting


def test_host_commands_seen_in_public_clients_decode() -> None:
    assert decode_command(b"\x00") is not None
    assert decode_command(b"\x01\x32") is not None
    assert decode_command(b"\x01\x65") is None  # 101 %
    assert decode_command(b"\x02\x01") is not None and decode_command(b"\x02\x02") is None
    assert decode_command(b"\x03\x01") is not None and decode_command(b"\x03") is not None
    assert decode_command(bytes(11).replace(b"\x00", b"\x09", 1)) is not None  # magicpy get_mode
    assert decode_command(b"\x42") is None
