"""Every number is range-checked at the codec: out of range is a rejected frame, never a value.

Issue 13, finding 3: an integer >= 2^63 in a valid frame reached SQLite and
broke the end of the session. The ranges are those of devices/tscp.py
("ranges"), taken from TSCP.md and SQLite's signed 64-bit integers.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.tscp import HOST_TO_DEVICE, Receiver, encode_frame

HUGE = str(2**63)
POSE_OK = ["-42.10", "38.55", "61.20", "0.9239", "0.0000", "0.3827", "0.0000", "0.98"]

OUT_OF_RANGE: list[tuple[str, list[str]]] = [
    ("PULSE", ["1000", HUGE, "62", "142.5"]),
    ("PULSE", ["1000", str(2**31), "62", "142.5"]),
    ("PULSE", ["1000", "0", "62", "142.5"]),
    ("PULSE", ["1000", "-3", "62", "142.5"]),
    ("PULSE", ["1000", "7", "101", "142.5"]),
    ("PULSE", ["1000", "7", "62", "1" + "0" * 40]),
    ("PULSE", [str(2**32), "7", "62", ""]),
    ("TRAIN", ["1000", HUGE, "START", "40"]),
    ("TRAIN", ["1000", "0", "START", "40"]),
    ("TRAIN", ["1000", "3", "END", "-1"]),
    ("EOS", ["1000", HUGE, "COMPLETE"]),
    ("EOS", ["1000", "-1", "STOPPED"]),
    ("PROTO", ["1000", "iTBS", "5", HUGE, "20", "8", "3"]),
    ("PROTO", ["1000", "iTBS", "5", "30", "20", "8", "-3"]),
    ("PROTO", ["1000", "iTBS", "-5", "30", "20", "8", "3"]),
    ("PROTO", ["1000", "iTBS", "5", "30", "20", "9" * 30, "3"]),
    ("STAT", ["1000", "RUNNING", "62", "9" * 30, "C1"]),
    ("STAT", ["1000", "RUNNING", HUGE, "31.5", "C1"]),
    ("INT", ["1000", "-1"]),
    ("POSE", ["1000", "99999.5", *POSE_OK[1:]]),
    ("POSE", ["1000", *POSE_OK[:3], "1.0001", *POSE_OK[4:]]),
    ("POSE", ["1000", *POSE_OK[:6], "-1.5", POSE_OK[7]]),
    ("POSE", ["1000", *POSE_OK[:7], "1.01"]),
    ("PONG", [HUGE]),
]


@pytest.mark.parametrize(("type_", "fields"), OUT_OF_RANGE)
def test_a_number_out_of_range_rejects_the_frame_and_keeps_its_bytes(type_: str, fields: list[str]) -> None:
    receiver = Receiver()
    good = encode_frame(0, "PONG", ["5"]) + encode_frame(2, "PONG", ["6"])
    bad = encode_frame(1, type_, fields)
    frames = receiver.feed(good[: len(good) // 2] + bad + good[len(good) // 2:], host_t=1.0)
    assert [f.value.device_t for f in frames] == [5, 6]
    assert (receiver.received, receiver.rejected, receiver.missing) == (2, 1, 1)
    assert list(receiver.rejected_lines) == [bad.rstrip(b"\r\n")]


IN_RANGE: list[tuple[str, list[str]]] = [
    ("PULSE", [str(2**32 - 1), str(2**31 - 1), "100", "-10000"]),
    ("PULSE", ["0", "1", "0", ""]),
    ("TRAIN", ["0", "1", "START", "0"]),
    ("EOS", ["0", "0", "STOPPED"]),
    ("PROTO", ["0", "x", "10000", "0", str(2**31 - 1), "86400", "1"]),
    ("STAT", ["0", "FAULT", "100", "-50", ""]),
    ("POSE", ["0", "-10000", "10000", "0", "-1", "1", "-1.0000", "1.0000", "1.00"]),
]


@pytest.mark.parametrize(("type_", "fields"), IN_RANGE)
def test_the_ends_of_each_range_are_accepted(type_: str, fields: list[str]) -> None:
    receiver = Receiver()
    assert len(receiver.feed(encode_frame(0, type_, fields), host_t=1.0)) == 1
    assert receiver.rejected == 0


@settings(max_examples=200, deadline=None)
@given(count=st.one_of(st.integers(2**31, 10**40), st.integers(-(10**40), 0)))
def test_no_pulse_count_outside_1_to_2_31_becomes_a_value(count: int) -> None:
    receiver = Receiver()
    assert receiver.feed(encode_frame(0, "PULSE", ["1000", str(count), "62", ""]), host_t=1.0) == []
    assert receiver.rejected == 1


@pytest.mark.parametrize("fields", [
    ["iTBS", "5", HUGE, "20", "8", "3"],
    ["iTBS", "5", "30", "20", "-8", "3"],
    ["iTBS", "1e3", "30", "20", "8", "3"],
])
def test_a_load_command_out_of_range_is_rejected_by_the_device(fields: list[str]) -> None:
    receiver = Receiver(HOST_TO_DEVICE)
    assert receiver.feed(encode_frame(0, "LOAD", fields), host_t=1.0) == []
    assert receiver.rejected == 1
