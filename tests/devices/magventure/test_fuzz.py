"""Fuzz the MagVenture receiver: its counts follow the receiver rule exactly, whatever the split.

The reference below implements the rule of devices/magventure/frames.py from its text, with its
own bitwise CRC: a frame is FE, LEN in 1..24, LEN payload bytes, their CRC and FF; a payload the
message table refuses is one rejected piece; every maximal run of other bytes between frames is
one rejected piece; an unfinished frame or junk run at the end waits. ``derandomize`` makes every
run the same, so a test that passes once cannot flake.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from devices import events as ev
from devices.magventure.codec import Receiver
from devices.magventure.frames import KEEP_BYTES, MAX_LEN, REJECTED_KEPT, encode_frame
from devices.magventure.messages import decode_message

FUZZ = settings(max_examples=300, deadline=None, derandomize=True)


def maxim_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        for bit in range(8):
            mix = (crc ^ (byte >> bit)) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
    return crc


def reference(stream: bytes) -> tuple[list[bytes], list[bytes]]:
    """(accepted payloads, rejected pieces) by the receiver rule, over the whole stream."""
    accepted: list[bytes] = []
    pieces: list[bytes] = []
    junk = bytearray()
    i, n = 0, len(stream)
    while i < n:
        if stream[i] == 0xFE:
            if i + 2 > n:
                break  # waits for LEN
            length = stream[i + 1]
            if 1 <= length <= MAX_LEN:
                end = i + length + 4
                if end > n:
                    break  # waits for the rest of the frame
                payload = stream[i + 2:end - 2]
                if stream[end - 1] == 0xFF and stream[end - 2] == maxim_crc(payload):
                    if junk:
                        pieces.append(bytes(junk[:KEEP_BYTES]))
                        junk.clear()
                    if decode_message(payload) is None:
                        pieces.append(stream[i:end])
                    else:
                        accepted.append(payload)
                    i = end
                    continue
        junk.append(stream[i])
        i += 1
    return accepted, pieces


def feed_in_pieces(receiver: Receiver, stream: bytes, cuts: list[int]) -> list[ev.DeviceEvent]:
    out: list[ev.DeviceEvent] = []
    last = 0
    for cut in [*sorted({c % (len(stream) + 1) for c in cuts}), len(stream)]:
        out += receiver.feed(stream[last:cut], host_t=1.0)
        last = cut
    return out


SB = st.integers(0, 5).map(lambda model: model << 5).flatmap(
    lambda m: st.integers(0, 31).map(lambda low: m | low))
BYTE = st.integers(0, 255)
AMP = st.integers(0, 100)
TEMP = st.integers(0, 120)

VALID_PAYLOADS = st.one_of(
    st.tuples(SB, BYTE, BYTE, BYTE, TEMP, BYTE, AMP, AMP).map(lambda t: bytes((0x00, *t))),
    st.tuples(SB, BYTE, BYTE, BYTE, TEMP, BYTE, AMP, AMP, BYTE, BYTE, BYTE, BYTE, BYTE,
              st.integers(0, 1)).map(lambda t: bytes((0x05, *t))),
    st.tuples(AMP, AMP, SB).map(lambda t: bytes((0x01, *t))),
    st.tuples(BYTE, BYTE, SB).map(lambda t: bytes((0x02, *t))),
    st.tuples(TEMP, BYTE, SB).map(lambda t: bytes((0x03, *t))),
    st.tuples(BYTE, st.integers(0, 1), SB).map(lambda t: bytes((0x08, *t))),
    st.binary(min_size=12, max_size=12).map(lambda b: b"\x04" + b),
)


def bad_piece(draw: st.DrawFn, good: bytes) -> bytes:
    """One piece a receiver must reject once: torn, corrupted, unknown, out of range or noise."""
    kind = draw(st.sampled_from(["crc", "truncated", "unknown", "range", "length", "noise"]))
    if kind == "crc":
        frame = bytearray(encode_frame(bytes(b for b in good if b != 0xFE) or b"\x02"))
        frame[-2] ^= draw(st.integers(1, 255))
        return bytes(frame)
    if kind == "truncated":
        whole = encode_frame(good)
        return whole[:draw(st.integers(1, len(whole) - 1))]
    if kind == "unknown":
        return encode_frame(bytes((draw(st.sampled_from([0x0D, 0x10, 0x42, 0xFE, 0xFF])), 1, 2, 3)))
    if kind == "range":
        return encode_frame(bytes((0x01, draw(st.integers(101, 255)), 0, 0x60)))
    if kind == "length":
        return encode_frame(bytes((0x02, 90, 0, 0x60, 0)))
    return draw(st.binary(min_size=1, max_size=20).map(lambda b: b.replace(b"\xfe", b"\x00")))


@st.composite
def interleaved(draw: st.DrawFn) -> tuple[bytes, int, int, int]:
    """Valid frames, each maybe followed by one bad piece, then three more valid frames."""
    parts: list[bytes] = []
    valid = bad = pulses = 0
    payloads = draw(st.lists(VALID_PAYLOADS, min_size=1, max_size=25))
    for payload in payloads:
        parts.append(encode_frame(payload))
        valid += 1
        pulses += payload[0] == 0x02
        if draw(st.booleans()):
            parts.append(bad_piece(draw, payload))
            bad += 1
    # a torn frame's LEN may reach past the end: a live line brings more bytes (the status poll);
    # here three more status replies (39 bytes, more than the longest frame) settle it
    parts += [encode_frame(bytes(9))] * 3
    return b"".join(parts), valid + 3, bad, pulses


@FUZZ
@given(case=interleaved(), cuts=st.lists(st.integers(0, 5_000), max_size=12))
def test_valid_frames_are_accepted_and_each_bad_piece_rejected_once(
        case: tuple[bytes, int, int, int], cuts: list[int]) -> None:
    stream, valid, bad, pulses = case
    receiver = Receiver()
    events = feed_in_pieces(receiver, stream, cuts)
    assert (receiver.received, receiver.rejected) == (valid, bad)
    assert sum(isinstance(e, ev.Pulse) for e in events) == pulses


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    frames = [encode_frame(p) for p in draw(st.lists(VALID_PAYLOADS, min_size=1, max_size=20))]
    stream = bytearray(b"".join(frames))
    mark: bytes
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(stream)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "marks"]))
        if op == "flip" and pos < len(stream):
            stream[pos] = draw(BYTE)
        elif op == "insert":
            stream[pos:pos] = bytearray(draw(st.binary(min_size=1, max_size=8)))
        elif op == "delete":
            del stream[pos:pos + draw(st.integers(1, 12))]
        else:
            mark = draw(st.sampled_from([b"\xfe", b"\xff", b"\xfe\xfe", b"\xfe\x04", b"\xff\xfe"]))
            stream[pos:pos] = mark
    return bytes(stream)


def check_against_reference(stream: bytes, cuts: list[int]) -> None:
    accepted, pieces = reference(stream)
    for receiver_cuts in ([], cuts):
        receiver = Receiver()
        feed_in_pieces(receiver, stream, receiver_cuts)
        assert (receiver.received, receiver.rejected) == (len(accepted), len(pieces))
        assert list(receiver.rejected_lines) == [p[:KEEP_BYTES] for p in pieces[-REJECTED_KEPT:]]


@FUZZ
@given(stream=mutated(), cuts=st.lists(st.integers(0, 5_000), max_size=12))
def test_mutated_streams_follow_the_receiver_rule(stream: bytes, cuts: list[int]) -> None:
    check_against_reference(stream, cuts)


@FUZZ
@given(stream=st.binary(max_size=300), cuts=st.lists(st.integers(0, 400), max_size=8))
def test_random_bytes_never_raise(stream: bytes, cuts: list[int]) -> None:
    check_against_reference(stream, cuts)
