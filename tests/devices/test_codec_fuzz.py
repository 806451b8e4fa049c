"""Fuzz the TSCP/1 receiver: random bytes and mutated valid streams never raise,
and its counts agree with a small independent implementation of the receiver
rule of TSCP.md, whatever the split of the byte stream into reads.

The reference below knows which frames are valid because the test made them:
a frame is accepted exactly when its bytes are one of the frames encoded here
(CRC-16 catches every corruption of up to 16 bits, so a mutation that turns
one valid frame into another is practically impossible; ``derandomize`` makes
each run the same, so a test that passes once cannot flake).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.tscp import MAX_FRAME, MAX_LINE, REJECTED_KEPT, SEQ_MOD, Receiver, encode_frame

FUZZ = settings(max_examples=300, deadline=None, derandomize=True)


class Reference:
    """TSCP.md "Receiver rule, exact", written from the text and nothing else."""

    def __init__(self, valid: dict[bytes, tuple[int, str]]) -> None:
        self.valid = valid

    def run(self, stream: bytes) -> tuple[list[tuple[int, str]], int, int, list[bytes]]:
        accepted: list[tuple[int, str]] = []
        rejected: list[bytes] = []
        missing = 0
        expected: int | None = None
        lines = stream.split(b"\n")[:-1]  # what follows the last LF is not a line yet
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                continue
            if len(line) > MAX_LINE:
                rejected.append(line)
                continue
            start = line.rfind(b"$")
            if start < 0:
                rejected.append(line)
                continue
            if start > 0:
                rejected.append(line[:start])
            frame = line[start:]
            if frame not in self.valid:
                rejected.append(frame)
                continue
            seq, type_ = self.valid[frame]
            if expected is not None and seq != expected and type_ != "HELLO":
                missing += (seq - expected) % SEQ_MOD
            expected = (seq + 1) % SEQ_MOD
            accepted.append((seq, type_))
        return accepted, len(rejected), missing, rejected


def feed_in_pieces(receiver: Receiver, stream: bytes, cuts: list[int]) -> list[tuple[int, str]]:
    out = []
    last = 0
    for cut in [*sorted({c % (len(stream) + 1) for c in cuts}), len(stream)]:
        out += [(f.seq, f.type) for f in receiver.feed(stream[last:cut])]
        last = cut
    return out


FRAME_MAKERS = [
    lambda t: ("HELLO", ["TSCP/1", "Acme Neuro", "SIM-1", "SN0001", "1.0.0"]),
    lambda t: ("STAT", [t, "RUNNING", 62, "31.5", ""]),
    lambda t: ("PULSE", [t, t % 3000, 62, "142.5"]),
    lambda t: ("POSE", [t, "-42.10", "38.55", "61.20", "0.9239", "0.0000", "0.3827", "0.0000", "0.98"]),
    lambda t: ("POSE", [t, "", "", "", "", "", "", "", "0.00"]),
    lambda t: ("TRAIN", [t, 3, "END", 40]),
    lambda t: ("EOS", [t, 3000, "COMPLETE"]),
    lambda t: ("PONG", [t]),
    lambda t: ("NAK", ["START", "BAD_STATE"]),
]


@st.composite
def valid_stream(draw: st.DrawFn) -> tuple[list[bytes], dict[bytes, tuple[int, str]]]:
    """Valid frames with a sequence that mostly counts up, sometimes jumps or wraps."""
    seq = draw(st.integers(0, SEQ_MOD - 1))
    frames: list[bytes] = []
    valid: dict[bytes, tuple[int, str]] = {}
    for i in range(draw(st.integers(1, 30))):
        type_, fields = draw(st.sampled_from(FRAME_MAKERS))(1000 + i)
        data = encode_frame(seq, type_, fields)
        frames.append(data)
        valid[data[:-2]] = (seq, type_)
        seq = (seq + draw(st.sampled_from([1, 1, 1, 1, 2, 7, 65535]))) % SEQ_MOD
    return frames, valid


NASTY = st.sampled_from([b"$", b"*", b",", b"\r", b"\n", b"\r\n", b"\x00", b"\xff", b"0", b"A", b"$$"])


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, dict[bytes, tuple[int, str]]]:
    frames, valid = draw(valid_stream())
    if draw(st.booleans()) and len(frames) > 1:  # whole frames lost or repeated
        i = draw(st.integers(0, len(frames) - 1))
        frames = frames[:i] + frames[i + 1:] if draw(st.booleans()) else frames[:i + 1] + frames[i:]
    stream = bytearray(b"".join(frames))
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(stream)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "nasty", "long"]))
        if op == "flip" and pos < len(stream):
            stream[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            stream[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del stream[pos:pos + draw(st.integers(1, 12))]
        elif op == "nasty":
            stream[pos:pos] = draw(NASTY)
        elif op == "long":  # a run of bytes without LF: an over-long line
            stream[pos:pos] = b"x" * draw(st.sampled_from([MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, 300]))
    return bytes(stream), valid


def check_against_reference(stream: bytes, valid: dict[bytes, tuple[int, str]], cuts: list[int]) -> None:
    accepted, rejected, missing, pieces = Reference(valid).run(stream)
    for receiver_cuts in ([], cuts):
        receiver = Receiver()
        got = feed_in_pieces(receiver, stream, receiver_cuts)
        assert got == accepted
        assert (receiver.received, receiver.rejected, receiver.missing) == (len(accepted), rejected, missing)
        assert list(receiver.rejected_lines) == [p[: MAX_FRAME + 40] for p in pieces[-REJECTED_KEPT:]]


@FUZZ
@given(case=mutated(), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_mutated_streams_follow_the_receiver_rule(case: tuple[bytes, dict], cuts: list[int]) -> None:
    stream, valid = case
    check_against_reference(stream, valid, cuts)


@FUZZ
@given(
    stream=st.lists(st.one_of(st.binary(max_size=40), NASTY), max_size=40).map(b"".join),
    cuts=st.lists(st.integers(0, 2_000), max_size=8),
)
def test_random_bytes_never_raise_and_never_become_frames(stream: bytes, cuts: list[int]) -> None:
    check_against_reference(stream, {}, cuts)


@FUZZ
@given(case=valid_stream(), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_intact_streams_lose_nothing(case: tuple[list[bytes], dict], cuts: list[int]) -> None:
    frames, valid = case
    receiver = Receiver()
    got = feed_in_pieces(receiver, b"".join(frames), cuts)
    assert got == [valid[f[:-2]] for f in frames]
    assert receiver.rejected == 0
