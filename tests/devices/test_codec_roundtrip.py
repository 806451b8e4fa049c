"""Every TSCP/1 frame type survives encode -> bytes -> decode unchanged (hypothesis),
and the example frames of TSCP.md decode."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from devices import events as ev
from devices.tscp import HOST_TO_DEVICE, RawCommand, Receiver, encode_frame, format_field, format_pose_fields
from tests.conftest import SHARED

H = 1.5  # the host time the test stamps on everything

seqs = st.integers(0, 65535)
times = st.integers(0, 2**32 - 1)
msos = st.integers(0, 100)
counts = st.integers(0, 2**31 - 1)  # tscp.COUNT_MAX: counts and protocol integers
numbers = st.integers(1, 2**31 - 1)  # pulse counts and train numbers are 1-based
texts = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=",$*"), min_size=1, max_size=16
)


@st.composite
def decimals(draw: st.DrawFn, low: int = -10**6, high: int = 10**6) -> str:
    """A decimal as TSCP writes it: -?digits(.digits)?, 0 to 4 places."""
    places = draw(st.integers(0, 4))
    value = draw(st.integers(low, high))
    if places == 0:
        return str(value)
    sign = "-" if value < 0 else ""
    digits = str(abs(value)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


quaternion_components = st.integers(-10**4, 10**4).map(lambda v: f"{v / 10**4:.4f}")
"""-1..1, as a unit quaternion's components are (tscp.QUATERNION_MAX)."""


def optional(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), strategy)


def opt_float(text: str) -> float | None:
    return float(text) if text else None


@st.composite
def device_frames(draw: st.DrawFn) -> tuple[str, list[str], object]:
    """(TYPE, fields as written, the typed value a receiver must build)."""
    kind = draw(st.sampled_from(sorted(set(ev_types) | {"POSE-hidden"})))
    t = draw(times)
    if kind == "HELLO":
        f = [draw(texts) for _ in range(5)]
        return kind, f, ev.Hello(None, H, *f)
    if kind == "STAT":
        state, mso = draw(st.sampled_from(ev.RUN_STATES)), draw(msos)
        temp, coil = draw(optional(decimals(-50, 250))), draw(optional(texts))
        return kind, [str(t), state, str(mso), temp, coil], ev.Status(
            t, H, state, mso, opt_float(temp), coil or None)
    if kind == "PROTO":
        name, freq, ppt, trains, iti, burst = (
            draw(texts), draw(decimals(0, 10_000)), draw(counts), draw(counts), draw(decimals(0, 86_400)),
            draw(counts))
        return kind, [str(t), name, freq, str(ppt), str(trains), iti, str(burst)], ev.ProtocolLoaded(
            t, H, name, float(freq), ppt, trains, float(iti), burst)
    if kind == "INT":
        mso = draw(msos)
        return kind, [str(t), str(mso)], ev.Intensity(t, H, mso)
    if kind == "POSE":
        values = [draw(decimals(-10_000, 10_000)) for _ in range(3)]
        values += [draw(quaternion_components) for _ in range(4)]
        quality = draw(st.integers(0, 100))
        q = f"{quality / 100:.2f}"
        return kind, [str(t), *values, q], ev.Pose(t, H, *map(float, values), float(q))
    if kind == "POSE-hidden":
        return "POSE", format_pose_fields(t, None, 0.0), ev.Pose(t, H, *[None] * 7, 0.0)
    if kind == "TRAIN":
        n, phase, pulses = draw(numbers), draw(st.sampled_from(["START", "END"])), draw(counts)
        return kind, [str(t), str(n), phase, str(pulses)], ev.Train(t, H, n, phase, pulses)
    if kind == "PULSE":
        count, mso, didt = draw(numbers), draw(msos), draw(optional(decimals(-10_000, 10_000)))
        return kind, [str(t), str(count), str(mso), didt], ev.Pulse(t, H, count, mso, opt_float(didt))
    if kind == "FAULT":
        code, text = draw(texts), draw(optional(texts))
        return kind, [str(t), code, text], ev.Fault(t, H, code, text or None)
    if kind == "CLEAR":
        code = draw(texts)
        return kind, [str(t), code], ev.Cleared(t, H, code)
    if kind == "EOS":
        pulses, reason = draw(counts), draw(st.sampled_from(ev.EOS_REASONS))
        return kind, [str(t), str(pulses), reason], ev.EndOfSession(t, H, pulses, reason)
    if kind == "PONG":
        return kind, [str(t)], ev.Pong(t, H)
    if kind == "ACK":
        command = draw(texts)
        return kind, [command], ev.Ack(None, H, command)
    assert kind == "NAK"
    command, reason = draw(texts), draw(st.sampled_from(ev.NAK_REASONS))
    return kind, [command, reason], ev.Nak(None, H, command, reason)


ev_types = ["HELLO", "STAT", "PROTO", "INT", "POSE", "TRAIN", "PULSE", "FAULT", "CLEAR", "EOS",
            "PONG", "ACK", "NAK"]


def test_the_strategy_covers_every_device_frame_type() -> None:
    from devices.tscp import DEVICE_TO_HOST

    assert set(ev_types) == set(DEVICE_TO_HOST)


@settings(max_examples=400, deadline=None)
@given(seq=seqs, frame=device_frames())
def test_device_frames_round_trip(seq: int, frame: tuple[str, list[str], object]) -> None:
    type_, fields, value = frame
    data = encode_frame(seq, type_, fields)
    receiver = Receiver()
    decoded = receiver.feed(data, host_t=H)
    assert receiver.rejected == 0
    assert len(decoded) == 1
    assert (decoded[0].seq, decoded[0].type) == (seq, type_)
    assert decoded[0].value == value
    assert type(decoded[0].value) is type(value)


@st.composite
def host_commands(draw: st.DrawFn) -> tuple[str, tuple]:
    name = draw(st.sampled_from(sorted(HOST_TO_DEVICE)))
    if name == "LOAD":
        freq = draw(st.floats(0, 1000, allow_nan=False).map(lambda x: round(x, 3)))
        return name, (draw(texts), freq, draw(counts), draw(counts), draw(st.integers(0, 3600)), draw(counts))
    if name == "SET":
        return name, (draw(msos),)
    return name, ()


@settings(max_examples=200, deadline=None)
@given(seq=seqs, command=host_commands())
def test_host_commands_round_trip(seq: int, command: tuple[str, tuple]) -> None:
    name, args = command
    data = encode_frame(seq, name, [format_field(a) for a in args])
    receiver = Receiver(HOST_TO_DEVICE)
    decoded = receiver.feed(data, host_t=H)
    assert receiver.rejected == 0 and len(decoded) == 1
    assert decoded[0].value == RawCommand(H, name, args)


EXAMPLES = [
    (b"$0,HELLO,TSCP/1,Acme Neuro,SIM-1,SN0001,1.0.0*EE2F",
     ev.Hello(None, H, "TSCP/1", "Acme Neuro", "SIM-1", "SN0001", "1.0.0")),
    (b"$17,PULSE,123456,1,62,142.5*A629", ev.Pulse(123456, H, 1, 62, 142.5)),
    (b"$18,POSE,123470,-42.10,38.55,61.20,0.9239,0.0000,0.3827,0.0000,0.98*8C4D",
     ev.Pose(123470, H, -42.10, 38.55, 61.20, 0.9239, 0.0, 0.3827, 0.0, 0.98)),
]


def test_the_example_frames_of_the_protocol_decode() -> None:
    spec = SHARED / "protocol" / "TSCP.md"
    if spec.exists():  # the copies here are the spec's examples, word for word
        listed = [line.strip().encode() for line in spec.read_text().splitlines()
                  if line.startswith("    $") and "<" not in line]
        assert listed == [raw for raw, _ in EXAMPLES]
    receiver = Receiver()
    frames = receiver.feed(b"".join(raw + b"\r\n" for raw, _ in EXAMPLES), host_t=H)
    assert [f.value for f in frames] == [value for _, value in EXAMPLES]
    assert receiver.rejected == 0
    assert receiver.missing == 16  # seq 0 then 17: frames 1..16 never arrived
