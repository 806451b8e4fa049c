"""The TSCP/1 receiver against the shared test vectors, in one piece and split."""

from __future__ import annotations

import json

import pytest

from devices.tscp import Receiver, crc16
from tests.conftest import SHARED

VECTORS = json.loads((SHARED / "protocol" / "vectors.json").read_text())["cases"]


def test_crc_check_value() -> None:
    assert crc16(b"123456789") == 0x29B1


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
@pytest.mark.parametrize("split", [None, 1, 2, 5, 13])
def test_vector(case: dict, split: int | None) -> None:
    data = case["input"].encode("latin-1")
    receiver = Receiver()
    frames = []
    if split is None:
        frames += receiver.feed(data)
    else:
        for i in range(0, len(data), split):
            frames += receiver.feed(data[i : i + split])
    assert [[f.seq, f.type, f.fields] for f in frames] == case["accepted"]
    assert receiver.rejected == case["rejected"]
    assert receiver.missing == case["missing"]
    assert receiver.received == len(case["accepted"])
