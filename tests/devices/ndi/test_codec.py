"""NDI wire and receiver: the worked examples of VENDORS.md §1.4 byte for byte, the head-frame math,
and bad replies counted and kept, never turned into a pose."""

from __future__ import annotations

import math
import struct

import pytest

from devices import events as ev
from devices.ndi import wire
from devices.ndi.codec import Receiver
from devices.ndi.headframe import coil_in_head, compose, normalised, quality

T = wire.ToolRecord
BX_EXAMPLE = bytes.fromhex(
    "c4a537003b23"  # start, LEN 0x37 = 55, header CRC 0x233B (VENDORS: CRC of all six bytes is 0)
    "02"  # two handles
    "0101" "0000803f" "00000000" "00000000" "00000000"  # handle 01 valid, q = (1, 0, 0, 0)
    "00002041" "0000a0c1" "0080bbc4" "0000803e"  # t = (10, -20, -1500) mm, RMS 0.25 mm
    "31000000" "d2040000"  # port status 0x31, frame 1234
    "0202" "31000000" "d2040000"  # handle 02 missing: port status and frame only
    "0000"  # system status
    "6246"  # body CRC 0x4662, little-endian
)
TX_EXAMPLE = (b"0201+10000+00000+00000+00000+001000-002000-150000+02500"
              b"00000031000004D2\n02MISSING00000031000004D2\n0000EF9E\r")
EXAMPLE = wire.Tracking((T(1, 1, (1.0, 0.0, 0.0, 0.0), (10.0, -20.0, -1500.0), 0.25, 0x31, 1234),
                         T(2, 2, None, None, None, 0x31, 1234)), 0)


def bitwise_crc(data: bytes) -> int:
    """CRC-16/ARC written from its definition (reflected 0xA001, init 0), not from the table."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_crc_register_after_each_character_of_init_matches_vendors_md() -> None:
    crc, steps = 0, []
    for ch in b"INIT:":
        crc = wire.crc16(bytes((ch,)), crc)
        steps.append(f"{crc:04X}")
    assert steps == ["F6C1", "A4B7", "8025", "2440", "E3A5"]
    assert wire.crc16(b"123456789") == 0xBB3D == bitwise_crc(b"123456789")


def test_hard_coded_frames_of_ndicapi_come_out_exactly() -> None:
    assert wire.command("INIT:") == b"INIT:E3A5\r"
    assert wire.command("VER:0") == b"VER:065EE\r"
    assert wire.command("GETINFO:Features.Firmware.Version") == b"GETINFO:Features.Firmware.Version0492\r"
    assert wire.text_reply("OKAY") == b"OKAYA896\r"
    assert wire.text_reply("RESET") == b"RESETBE6F\r"
    assert wire.command("INIT ") == b"INIT \r"  # the space form carries no CRC
    assert wire.crc16(bytes.fromhex("c4a537003b23")) == 0


def test_bx_worked_example_byte_for_byte() -> None:
    assert wire.encode_bx(EXAMPLE) == BX_EXAMPLE
    assert bitwise_crc(BX_EXAMPLE[6:-2]) == struct.unpack("<H", BX_EXAMPLE[-2:])[0]
    assert wire.decode_bx(BX_EXAMPLE[6:-2]) == EXAMPLE
    assert len(BX_EXAMPLE) == 0x37 + 8


def test_tx_worked_example_byte_for_byte() -> None:
    assert wire.encode_tx(EXAMPLE) == TX_EXAMPLE
    line = TX_EXAMPLE[:-1]
    assert wire.text_reply_ok(line) and int(line[-4:], 16) == bitwise_crc(line[:-4])
    decoded = wire.decode_tx(line[:-4].decode())
    assert decoded is not None and decoded.tools[0].t == pytest.approx((10.0, -20.0, -1500.0))
    assert decoded.tools[0].rms == pytest.approx(0.25) and decoded.tools[1].status == wire.HANDLE_MISSING


def test_head_frame_is_the_coil_relative_to_the_reference_whatever_the_head_does() -> None:
    head_q, head_t = normalised((0.9, 0.3, -0.2, 0.25)), (25.0, -40.0, -1350.0)
    target_q, target_t = normalised((0.9239, 0.0, 0.3827, 0.0)), (-42.1, 38.55, 61.2)
    coil_q, coil_t = compose(head_q, head_t, target_q, target_t)
    q, t = coil_in_head(coil_q, coil_t, head_q, head_t)
    assert t == pytest.approx(target_t, abs=1e-9) and q == pytest.approx(target_q, abs=1e-12)
    assert quality(0.0, 0.0) == 1.0 and quality(0.25, 1.0) == 0.5


def one_pose(events: list[ev.DeviceEvent]) -> ev.Pose:
    (pose,) = events
    assert isinstance(pose, ev.Pose)
    return pose


def tracking_receiver(reply: str = "bx") -> Receiver:
    r = Receiver(reply)
    r.assign(coil=1, reference=2)
    return r


def test_a_pose_needs_both_tools_and_missing_means_no_pose() -> None:
    r = tracking_receiver()
    pose = one_pose(r.feed(BX_EXAMPLE, host_t=5.0))
    assert not pose.visible and pose.quality == 0.0
    assert pose.device_t == 1234 * 1000 // 60 and r.received == 1
    ref = T(2, 1, (1.0, 0.0, 0.0, 0.0), (0.0, 0.0, -1500.0), 0.5, 0x31, 1235)
    both = wire.Tracking((EXAMPLE.tools[0]._replace(frame=1235), ref), 0)
    pose = one_pose(r.feed(wire.encode_bx(both), host_t=5.1))
    assert (pose.x, pose.y, pose.z) == pytest.approx((10.0, -20.0, 0.0))
    assert pose.qw == pytest.approx(1.0) and pose.quality == pytest.approx(1 / 1.5)
    assert r.feed(wire.encode_bx(both), host_t=5.2) == []  # the same frame again: no second pose


def test_out_of_volume_is_no_pose() -> None:
    r = tracking_receiver()
    out = wire.Tracking((T(1, 1, (1.0, 0.0, 0.0, 0.0), (0.0, 0.0, -900.0), 0.2, 0x71, 9),
                         T(2, 1, (1.0, 0.0, 0.0, 0.0), (0.0, 0.0, -1500.0), 0.2, 0x31, 9)), 0)
    assert not one_pose(r.feed(wire.encode_bx(out), host_t=1.0)).visible


def test_tx_replies_give_the_same_pose_as_bx() -> None:
    r = tracking_receiver("tx")
    r.sent(wire.command("TX:0801"))
    pose = one_pose(r.feed(TX_EXAMPLE, host_t=1.0))
    assert not pose.visible and pose.device_t == 20566


def test_the_handles_are_learnt_from_pena_in_order_and_ver_gives_hello() -> None:
    r = Receiver()
    r.sent(wire.command("VER:0"))
    (hello,) = r.feed(wire.text_reply("Polaris Spectra Control Firmware\nNDI S/N: P6-777\n"
                                      "Freeze Tag: Polaris Spectra Rev 007.000\n"), host_t=1.0)
    assert isinstance(hello, ev.Hello)
    assert (hello.serial, hello.firmware) == ("P6-777", "Polaris Spectra Rev 007.000")
    r.sent(wire.command("PENA:02D"))
    r.sent(wire.command("PENA:01D"))
    assert (r.coil, r.reference) == (2, 1)


@pytest.mark.parametrize("piece", [
    BX_EXAMPLE[:-1] + bytes((BX_EXAMPLE[-1] ^ 1,)),  # bad body CRC
    b"OKAYA897\r",  # bad text CRC
    wire.binary_reply(BX_EXAMPLE[6:-4]),  # a length that does not add up (system status cut)
    wire.binary_reply(BX_EXAMPLE[6:9] + struct.pack("<8f", 2.0, 0, 0, 0, 0, 0, 0, 0.1) + BX_EXAMPLE[41:-2]),
    wire.binary_reply(BX_EXAMPLE[6:9] + struct.pack("<8f", 1.0, 0, 0, 0, 2e4, 0, 0, 0.1) + BX_EXAMPLE[41:-2]),
    wire.binary_reply(BX_EXAMPLE[6:9] + struct.pack("<8f", 1.0, 0, 0, 0, math.nan, 0, 0, 0.1)
                      + BX_EXAMPLE[41:-2]),
    wire.binary_reply(BX_EXAMPLE[6:7] + b"\x01\x09" + BX_EXAMPLE[9:-2]),  # unknown handle status
])
def test_bad_replies_are_counted_kept_and_give_no_pose(piece: bytes) -> None:
    r = tracking_receiver()
    events = r.feed(piece + BX_EXAMPLE, host_t=1.0)
    assert (r.rejected, r.received) == (1, 1)
    assert r.rejected_lines[-1] == piece[:256]
    assert [e.visible for e in events if isinstance(e, ev.Pose)] == [False]


def test_a_truncated_bx_waits_then_is_rejected_when_the_next_reply_shows_it_torn() -> None:
    r = tracking_receiver()
    assert r.feed(BX_EXAMPLE[:30], host_t=1.0) == [] and r.rejected == 0
    events = r.feed(BX_EXAMPLE + BX_EXAMPLE, host_t=1.1)  # the rest never came: a new reply did
    assert r.rejected == 1 and r.received == 2 and len(events) == 1


def test_a_tx_record_that_does_not_parse_is_rejected() -> None:
    r = tracking_receiver("tx")
    r.sent(wire.command("TX:0801"))
    bad = wire.text_reply("0201+1000X+00000+00000+00000+001000-002000-150000+0250000000031000004D2\n0000")
    assert r.feed(bad, host_t=1.0) == [] and (r.rejected, r.received) == (1, 0)
