"""One way to write TSCP numbers and one protocol type: what the host sends is what the device reports.

The codec (devices/tscp.py) is the only writer of decimals; the simulator
and the host's commands both go through it, so a protocol loaded with LOAD
comes back in PROTO exactly as it was sent, and a device's frames re-encode
to the same text.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import events as ev
from devices.protocol import ProtocolSpec
from devices.serial_adapter import command_fields
from devices.sim.config import SimConfig
from devices.sim.model import SimDevice
from devices.sim.settings import load_settings
from devices.tscp import (
    HOST_TO_DEVICE,
    PLACES,
    Receiver,
    encode_frame,
    format_decimal,
    format_pose_fields,
    format_proto_fields,
)

DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # TSCP.md "Numbers"
SETTINGS = load_settings()

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(value=finite, field=st.sampled_from(sorted(PLACES)))
def test_every_decimal_is_written_in_the_protocol_grammar_to_its_places(value: float, field: str) -> None:
    places = PLACES[field]
    text = format_decimal(value, places)
    assert DECIMAL.fullmatch(text), text
    assert len(text.partition(".")[2]) <= places
    assert abs(float(text) - value) <= 0.5 * 10**-places + 1e-9 * max(1.0, abs(value))


@settings(max_examples=300, deadline=None)
@given(units=st.integers(-10**9, 10**9), field=st.sampled_from(sorted(PLACES)))
def test_a_value_at_its_fields_precision_survives_writing_and_reading(units: int, field: str) -> None:
    value = units / 10 ** PLACES[field]
    assert float(format_decimal(value, PLACES[field])) == value


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, True])
def test_what_no_frame_can_carry_is_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        format_decimal(bad, 3)


protocols = st.builds(
    ProtocolSpec,
    name=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=",$*"),
                 min_size=1, max_size=20).filter(str.strip),
    freq_hz=st.floats(0.01, 100, allow_nan=False),
    pulses_per_train=st.integers(1, 100).map(lambda n: 3 * n),
    trains=st.integers(1, 100),
    iti_s=st.floats(0, 3600, allow_nan=False),
    burst=st.sampled_from([1, 3]),
)


def _spec_at_wire_precision(spec: ProtocolSpec) -> ProtocolSpec:
    return spec._replace(freq_hz=float(format_decimal(spec.freq_hz, PLACES["freq_hz"])),
                         iti_s=float(format_decimal(spec.iti_s, PLACES["iti_s"])))


@settings(max_examples=200, deadline=None)
@given(spec=protocols, t=st.integers(0, 2**32 - 1))
def test_a_proto_frame_decodes_to_the_protocol_it_was_written_from(spec: ProtocolSpec, t: int) -> None:
    receiver = Receiver()
    [frame] = receiver.feed(encode_frame(0, "PROTO", format_proto_fields(t, spec)), host_t=0.0)
    assert isinstance(frame.value, ev.ProtocolLoaded)
    assert frame.value.spec == _spec_at_wire_precision(spec)
    assert isinstance(frame.value.spec, ProtocolSpec)


@settings(max_examples=100, deadline=None)
@given(spec=protocols.filter(lambda s: s.problem() is None))
def test_the_simulator_reports_exactly_the_protocol_the_host_loaded(spec: ProtocolSpec) -> None:
    """LOAD as the host adapter writes it -> the simulated device -> PROTO as the host reads it."""
    sent = encode_frame(0, "LOAD", command_fields(tuple(spec)))
    [command] = Receiver(HOST_TO_DEVICE).feed(sent, host_t=0.0)
    device = SimDevice(SimConfig(protocol=None, mso=50), SETTINGS)
    answers = dict(device.handle("LOAD", command.value.args))
    assert "PROTO" in answers, answers
    [frame] = Receiver().feed(encode_frame(1, "PROTO", answers["PROTO"].split(",")), host_t=0.0)
    loaded_fields = sent.decode().split("*")[0].split(",")[2:]
    reported_fields = answers["PROTO"].split(",")[1:]
    assert reported_fields == loaded_fields  # the device writes its numbers as the host wrote them
    assert frame.value.spec == _spec_at_wire_precision(spec)


def test_the_simulators_frames_are_written_as_the_codec_writes_them() -> None:
    device = SimDevice(SimConfig(protocol=ProtocolSpec("itbs", 5.0, 30, 2, 8.0, 3), mso=50, autostart=True,
                                 scenarios=("tracker-loss",)), SETTINGS)
    outs = device.connection_opened()
    while device.now < 30_000:
        outs += device.advance(device.now + 1000)
    receiver = Receiver()
    seen = set()
    for i, (type_, payload) in enumerate(o for o in outs if not o[0].startswith("#")):
        [frame] = receiver.feed(encode_frame(i, type_, payload.split(",")), host_t=0.0)
        value = frame.value
        seen.add(type_ if type_ != "POSE" or value.x is not None else "POSE-hidden")
        if type_ == "POSE":
            pose = None if value.x is None else (value.x, value.y, value.z, value.qw, value.qx, value.qy,
                                                 value.qz)
            assert payload == ",".join(format_pose_fields(value.device_t, pose, value.quality))
        elif type_ == "PROTO":
            assert payload == ",".join(format_proto_fields(value.device_t, value.spec))
        elif type_ == "STAT" and value.coil_temp_c is not None:
            assert payload.split(",")[3] == format_decimal(value.coil_temp_c, PLACES["coil_temp_c"])
        elif type_ == "PULSE" and value.didt is not None:
            assert payload.split(",")[3] == format_decimal(value.didt, PLACES["didt"])
    assert seen >= {"PROTO", "STAT", "PULSE", "POSE", "POSE-hidden"}
