"""Fuzz the Magstim receiver: counts are exact whatever the corruption and the split into reads.

Each exchange is a command and what came back. Corruptions are drawn so the
expected counts follow from the receiver rule (codec module docstring):
a good reply is one accepted; a bad checksum, a cut-short reply, an
out-of-range field is one rejected; junk before or after a reply is one
rejected more; silence is one missing. A second test feeds random bytes and
checks the counts against a small reference written from the rule's text.
Status bytes 0x3F ('?') and 0x53 ('S') are left out of the good replies: a
reply whose status byte is one of them is, by the protocol itself, the same
bytes as an error reply (magpy reads it so too).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.magstim.codec import Receiver, checksum, encode, parse_reply
from devices.magstim.rules import Unit, reply_length

FUZZ = settings(max_examples=300, deadline=None, derandomize=True)
UNITS = [Unit("rapid", (9, 4, 0)), Unit("rapid", (8, 0, 0)), Unit("200"), Unit("bistim")]
STATUS = st.integers(0, 255).filter(lambda b: b not in (0x3F, 0x53))


def framed(body: bytes) -> bytes:
    return body + bytes([checksum(body)])


@st.composite
def good_reply(draw: st.DrawFn, unit: Unit) -> tuple[str, bytes]:
    """(command letter, a good reply to it) for this unit."""
    digits = st.integers(0, 9).map(lambda d: str(d).encode())
    if unit.rapid:
        letter = draw(st.sampled_from(["Q", "E", "@", "F", "\\", "N", "B", "D", "[", "I"]))
    else:
        letter = draw(st.sampled_from(["Q", "E", "@", "F", "J"]))
    instr = bytes([draw(STATUS)])
    kind = draw(st.sampled_from(["data", "data", "data", "?", "X?", "XS"]))
    if kind == "?":
        return letter, b"?"
    if kind != "data" and letter != "N":
        return letter, framed(letter.encode() + kind[1:].encode())
    if letter == "N":
        return letter, framed(b"NV" + ".".join(str(x) for x in unit.v).encode() + b"\x00")
    if letter == "J":
        a, b_ = draw(st.integers(0, 110)), draw(st.integers(0, 110))
        return letter, framed(b"J" + instr + b"%03d%03d%03d" % (a, b_, draw(st.integers(0, 999))))
    if letter == "F":
        return letter, framed(b"F" + instr + b"".join(draw(digits) for _ in range(6)))
    if letter == "\\":
        widths = (4, 5, 4, 4) if unit.v >= (9,) else (4, 4, 3, 4)
        rest = b"".join(b"".join(draw(digits) for _ in range(w)) for w in widths)
        freq = b"%04d" % draw(st.integers(0, 1000))
        return letter, framed(b"\\" + instr + bytes([draw(STATUS)]) + b"%03d" % draw(st.integers(0, 110))
                              + freq + rest[4:])
    if letter in "BD[":
        return letter, framed(letter.encode() + instr + bytes([draw(STATUS)]))
    if letter == "I":
        return letter, framed(b"I" + instr + b"".join(draw(digits) for _ in range(3)))
    return letter, framed(letter.encode() + instr)


JUNK = st.binary(min_size=1, max_size=6).map(lambda b: bytes(x | 0x80 for x in b))
"""Bytes that can never start a reply (no ASCII letter, no '?')."""


@st.composite
def exchange(draw: st.DrawFn, unit: Unit) -> tuple[str, bytes, tuple[int, int, int]]:
    """(letter, bytes back, (accepted, rejected, missing) it must count)."""
    letter, good = draw(good_reply(unit))
    how = draw(st.sampled_from(["ok", "ok", "bad_crc", "cut", "silent", "junk_before", "junk_after",
                                "out_of_range"]))
    if how == "bad_crc" and len(good) > 1:
        return letter, good[:-1] + bytes([good[-1] ^ draw(st.integers(1, 255))]), (0, 1, 0)
    if how == "cut":
        keep = draw(st.integers(0, len(good) - 1))
        return letter, good[:keep], ((0, 1, 0) if keep else (0, 0, 1))
    if how == "silent":
        return letter, b"", (0, 0, 1)
    if how == "junk_before":
        return letter, draw(JUNK) + good, (1, 1, 0)
    if how == "junk_after":
        return letter, good + draw(st.binary(min_size=1, max_size=6)), (1, 1, 0)
    if how == "out_of_range" and letter in "J\\" and len(good) > 10 and good[1:2] not in (b"?", b"S"):
        spoiled = good[:-1]
        spoiled = spoiled[:3] + b"x" + spoiled[4:]
        return letter, framed(spoiled), (0, 1, 0)
    return letter, good, (1, 0, 0)


@st.composite
def session(draw: st.DrawFn) -> tuple[Unit, list[tuple[str, bytes, tuple[int, int, int]]]]:
    unit = draw(st.sampled_from(UNITS))
    return unit, draw(st.lists(exchange(unit), min_size=1, max_size=25))


def run(unit: Unit, exchanges: list[tuple[str, bytes]], cuts: list[int]) -> Receiver:
    receiver = Receiver(unit)
    t = 0.0
    for letter, data in exchanges:
        t += 0.1
        receiver.sent(encode(letter, "@" if letter != "N" else "D"), t)
        points = sorted({c % (len(data) + 1) for c in cuts})
        last = 0
        for cut in [*points, len(data)]:
            receiver.feed(data[last:cut], t + 0.01)
            last = cut
    receiver.close(t + 1.0)
    return receiver


@FUZZ
@given(case=session(), cuts=st.lists(st.integers(0, 100), max_size=6))
def test_counts_are_exact_for_every_corruption(case: tuple[Unit, list], cuts: list[int]) -> None:
    unit, exchanges = case
    receiver = run(unit, [(letter, data) for letter, data, _ in exchanges], cuts)
    want = [sum(e[2][i] for e in exchanges) for i in range(3)]
    assert [receiver.received, receiver.rejected, receiver.missing] == want


def reference(unit: Unit, letter: str, data: bytes) -> tuple[int, int, int]:
    """The receiver rule, from the text: one exchange's (accepted, rejected, missing)."""
    start = next((i for i, b in enumerate(data) if b in (ord(letter), 0x3F)), None)
    if start is None:
        return 0, (1 if data else 0), 1
    rest = data[start:]
    rejected = 1 if start else 0
    if rest[0] == 0x3F:
        n = 1
    elif rest[0] == ord("N"):
        nul = rest.find(0, 1, 24)
        n = nul + 2 if nul >= 0 else 25
    elif len(rest) >= 2 and rest[1] in b"?S":
        n = 3
    else:
        n = reply_length(unit, chr(rest[0])) or 3
    if len(rest) < n:
        return 0, rejected + 1, 0
    good = parse_reply(unit, rest[:n]) is not None
    tail = 1 if len(rest) > n else 0
    return (1 if good else 0), rejected + (0 if good else 1) + tail, 0


LETTERS = st.sampled_from(["Q", "E", "@", "F", "J", "\\", "N", "B"])
NOISY = st.lists(st.one_of(st.binary(max_size=8), st.sampled_from([b"?", b"Q", b"E", b"N", b"\x00", b"S"])),
                 max_size=8).map(b"".join)


@FUZZ
@given(unit=st.sampled_from(UNITS), exchanges=st.lists(st.tuples(LETTERS, NOISY), min_size=1, max_size=12),
       cuts=st.lists(st.integers(0, 100), max_size=6))
def test_random_bytes_follow_the_rule_and_never_raise(unit: Unit, exchanges: list[tuple[str, bytes]],
                                                      cuts: list[int]) -> None:
    receiver = run(unit, exchanges, cuts)
    want = [0, 0, 0]
    for letter, data in exchanges:
        for i, n in enumerate(reference(receiver.unit, letter, data)):
            want[i] += n
    assert [receiver.received, receiver.rejected, receiver.missing] == want
    assert len(receiver.rejected_lines) == min(receiver.rejected, 50)
