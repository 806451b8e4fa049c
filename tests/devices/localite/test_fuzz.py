"""Fuzz the Localite receiver: its counts follow the scanner rule exactly, whatever the split.

The reference below implements the rule of devices/localite/scanner.py from its text, byte by byte
(the scanner itself jumps with regular expressions): whitespace between objects is ignored, a run
of other bytes before a ``{`` is one rejected piece, an object is followed string- and escape-aware
to the brace closing it, and one not closed within the size limit is cut (one piece) and the bytes
up to the next ``{`` skipped. Whether a complete candidate is accepted is then asked of a fresh
receiver fed that candidate alone (the value checks are the codec's worked examples in
test_codec.py; here the cutting is under test). A small size limit makes runaway objects common.
``derandomize`` makes every run the same, so a test that passes once cannot flake.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from devices import events as ev
from devices.localite.codec import Receiver
from devices.localite.scanner import KEEP_BYTES, REJECTED_KEPT

FUZZ = settings(max_examples=300, deadline=None, derandomize=True)
LIMIT = 256
WS = b" \t\r\n"


def accepted_alone(candidate: bytes) -> bool:
    r = Receiver(max_object=LIMIT)
    r.feed(candidate, 1.0)
    return r.received == 1


def reference(stream: bytes, limit: int = LIMIT) -> tuple[int, list[bytes]]:
    """(accepted objects, rejected pieces) by the scanner rule, over the whole stream."""
    accepted = 0
    pieces: list[bytes] = []
    junk = bytearray()
    skipping = False
    i, n = 0, len(stream)
    while i < n:
        b = stream[i]
        if b != ord("{"):
            if not skipping and (junk or b not in WS):
                junk.append(b)
            i += 1
            continue
        if junk:
            pieces.append(bytes(junk[:KEEP_BYTES]))
            junk.clear()
        skipping = False
        depth, in_string, escaped, closed = 0, False, False, False
        j = i
        while j < n and j - i < limit:
            c = stream[j]
            if in_string:
                if escaped:
                    escaped = False
                elif c == ord("\\"):
                    escaped = True
                elif c == ord('"'):
                    in_string = False
            elif c == ord('"'):
                in_string = True
            elif c == ord("{"):
                depth += 1
            elif c == ord("}"):
                depth -= 1
                if depth == 0:
                    closed = True
                    break
            j += 1
        if closed:
            candidate = stream[i:j + 1]
            if accepted_alone(candidate):
                accepted += 1
            else:
                pieces.append(candidate[:KEEP_BYTES])
            i = j + 1
        elif j - i >= limit:
            pieces.append(stream[i:i + KEEP_BYTES])
            skipping = True
            i += limit
        else:
            break  # an unfinished object waits
    return accepted, pieces


def feed_in_pieces(receiver: Receiver, stream: bytes, cuts: list[int]) -> list[ev.DeviceEvent]:
    out: list[ev.DeviceEvent] = []
    last = 0
    for cut in [*sorted({c % (len(stream) + 1) for c in cuts}), len(stream)]:
        out += receiver.feed(stream[last:cut], host_t=1.0)
        last = cut
    return out


def dump(obj: object) -> bytes:
    return json.dumps(obj).encode("ascii")


def unit(q: tuple[float, ...]) -> tuple[float, ...]:
    norm = sum(c * c for c in q) ** 0.5
    return tuple(round(c / norm, 9) for c in q)


UNIT = st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1)).filter(
    lambda q: sum(c * c for c in q) > 0.01).map(unit)
MM = st.floats(-500, 500, allow_nan=False).map(lambda v: round(v, 3))
TEXT = st.text(alphabet=st.sampled_from('ab {}[]"\\:,é\n'), max_size=12)

VALID = st.one_of(
    st.tuples(UNIT, MM, MM, MM).map(lambda t: dump({"coil_0_position": {
        "q0": t[0][0], "qx": t[0][1], "qy": t[0][2], "qz": t[0][3], "x": t[1], "y": t[2], "z": t[3]}})),
    st.sampled_from(["OK", "BLOCKED"]).map(lambda s: dump({"coil_0_status": s})),
    st.sampled_from(["OK", "BLOCKED"]).map(lambda s: dump({"reference_status": s})),
    st.just(dump({"patient_registration_status": "REGISTERED"})),
    st.integers(0, 100).map(lambda a: dump({"coil_0_amplitude": a})),
    st.integers(0, 300).map(lambda d: dump({"coil_0_didt": d})),
    st.sampled_from(["pointer_status", "coil_1_status"]).map(lambda k: dump({k: "BLOCKED"})),
    TEXT.map(lambda s: dump({"coil_0_type": s})),
    TEXT.map(lambda s: dump({"navigation_mode": s, "extra": {"k": [s]}})),
    st.just(dump({"error": {"get": "coil_0_position"}})),
)
SEPARATOR = st.sampled_from([b"", b"", b" ", b"\r\n", b"\t \n"])


@st.composite
def bad_piece(draw: st.DrawFn) -> bytes:
    """One piece a receiver must reject exactly once, when a valid object follows it."""
    kind = draw(st.sampled_from(["noise", "not-json", "range", "runaway", "binary"]))
    if kind == "noise":
        return draw(st.binary(min_size=1, max_size=20).map(lambda b: b.replace(b"{", b"x"))
                    .filter(lambda b: b.strip(WS) != b""))
    if kind == "not-json":
        return b'{"coil_0_amplitude": ' + draw(st.sampled_from([b"", b"4 5", b"'x'", b"[1,]"])) + b"}"
    if kind == "range":
        return dump({"coil_0_amplitude": draw(st.integers(101, 10_000))})
    if kind == "runaway":
        return b'{"log": "' + b"x" * draw(st.integers(LIMIT, 3 * LIMIT))
    return draw(st.binary(min_size=1, max_size=8).map(lambda b: bytes(c | 0x80 for c in b)))


@st.composite
def interleaved(draw: st.DrawFn) -> tuple[bytes, int, int, int]:
    """Valid objects, each maybe followed by one bad piece, then one more valid object."""
    parts: list[bytes] = []
    valid = bad = pulses = 0
    for obj in draw(st.lists(VALID, min_size=1, max_size=25)):
        parts += [obj, draw(SEPARATOR)]
        valid += 1
        pulses += obj.startswith(b'{"coil_0_didt"')
        if draw(st.booleans()):
            parts.append(draw(bad_piece()))
            bad += 1
    parts.append(dump({"coil_0_amplitude": 1}))  # ends the last junk run
    return b"".join(parts), valid + 1, bad, pulses


@FUZZ
@given(case=interleaved(), cuts=st.lists(st.integers(0, 5_000), max_size=12))
def test_valid_objects_are_accepted_and_each_bad_piece_rejected_once(
        case: tuple[bytes, int, int, int], cuts: list[int]) -> None:
    stream, valid, bad, pulses = case
    receiver = Receiver(max_object=LIMIT)
    events = feed_in_pieces(receiver, stream, cuts)
    assert (receiver.received, receiver.rejected) == (valid, bad)
    assert sum(isinstance(e, ev.Pulse) for e in events) == pulses


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    stream = bytearray(b"".join(draw(st.lists(VALID, min_size=1, max_size=15))))
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(stream)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "marks"]))
        if op == "flip" and pos < len(stream):
            stream[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            stream[pos:pos] = bytearray(draw(st.binary(min_size=1, max_size=8)))
        elif op == "delete":
            del stream[pos:pos + draw(st.integers(1, 12))]
        else:
            stream[pos:pos] = draw(st.sampled_from([b"{", b"}", b'"', b"\\", b'{"', b'\\"', b"}{"]))
    return bytes(stream)


def check_against_reference(stream: bytes, cuts: list[int]) -> None:
    accepted, pieces = reference(stream)
    for receiver_cuts in ([], cuts):
        receiver = Receiver(max_object=LIMIT)
        feed_in_pieces(receiver, stream, receiver_cuts)
        assert (receiver.received, receiver.rejected) == (accepted, len(pieces))
        assert list(receiver.rejected_lines) == [p[:KEEP_BYTES] for p in pieces[-REJECTED_KEPT:]]


@FUZZ
@given(stream=mutated(), cuts=st.lists(st.integers(0, 5_000), max_size=12))
def test_mutated_streams_follow_the_scanner_rule(stream: bytes, cuts: list[int]) -> None:
    check_against_reference(stream, cuts)


@FUZZ
@given(stream=st.binary(max_size=400), cuts=st.lists(st.integers(0, 500), max_size=8))
def test_random_bytes_never_raise(stream: bytes, cuts: list[int]) -> None:
    check_against_reference(stream, cuts)


@FUZZ
@given(stream=st.text(alphabet=st.sampled_from('{}"\\ a:1,'), max_size=300).map(str.encode),
       cuts=st.lists(st.integers(0, 400), max_size=8))
def test_brace_and_quote_soup_follows_the_scanner_rule(stream: bytes, cuts: list[int]) -> None:
    check_against_reference(stream, cuts)
