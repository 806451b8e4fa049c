"""The public client magicpy (PyPI, drives real MagPros) against the simulated MagPro over a pty:
an independent peer. Its calls succeed, and the bytes it sends and receives are the framing of
VENDORS.md (checked in the simulator's trace, frame by frame)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.magventure.frames import crc8, encode_frame
from devices.magventure.messages import decode_command, decode_message
from devices.magventure.sim.process import MagProProcess

magicpy = pytest.importorskip("magicpy")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(payload=st.binary(min_size=1, max_size=24))
def test_magicpy_computes_the_same_crc(payload: bytes) -> None:
    assert int(magicpy.MagVenture.calc_crc([f"{b:02x}" for b in payload]), 16) == crc8(payload)


def test_magicpy_connects_reads_status_sets_power_enables_fires_and_disconnects(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    with MagProProcess("--protocol", "10hz", "--mso", "30", "--trace", trace) as sim:
        stim = magicpy.MagVenture(sim.port, wait_s=0.5, wait_l=0.5)
        stim.connect()
        status, error = stim.get_status()
        assert error == 0
        assert (status["Model"], status["SerialNo"], status["Status"]) == ("X100+Option", 51234, "Disabled")
        assert status["amplitudePercentage_A"] == 30 and status["coilTypeNo"] == 72

        answer, error = stim.set_amplitude(45, get_response=True)
        assert error == 0 and answer["amplitudePercentage_A"] == 45

        answer, error = stim.arm(get_response=True)  # the three packets 01, 03, 01 (24 bytes)
        assert error == 0 and answer["Status"] == "Enabled"

        assert stim.fire(use_ttl=False) == (None, None)
        time.sleep(0.6)  # the pulse's di/dt packet, as above
        status, error = stim.get_status()
        assert error == 0 and status["Status"] == "Enabled" and status["amplitudePercentage_A"] == 45

        stim.disarm()
        time.sleep(0.6)  # its three packets arrive 20-40 ms later; magicpy's next read must not see them
        status, error = stim.get_status()
        assert error == 0 and status["Status"] == "Disabled"
        stim.disconnect()

    lines = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
    sent = [bytes.fromhex(x["hex"]) for x in lines if x["dir"] == "host"]
    assert all(x.get("understood") for x in lines if x["dir"] == "host")  # no junk, nothing ignored
    # what magicpy put on the wire is exactly the framing: FE LEN PAYLOAD CRC8 FF
    assert [encode_frame(p).hex(" ") for p in sent] == [
        "fe 01 00 00 ff",  # get_status
        encode_frame(b"\x01\x2d").hex(" "),  # set_amplitude(45)
        encode_frame(b"\x02\x01").hex(" "),  # arm
        encode_frame(b"\x03\x01").hex(" "),  # fire
        encode_frame(b"\x00").hex(" "),
        encode_frame(b"\x02\x00").hex(" "),  # disarm
        encode_frame(b"\x00").hex(" "),
    ]
    assert all(decode_command(p) is not None for p in sent)
    # and every frame the simulator answered with decodes as a MagPro message, a di/dt among them
    received = [bytes.fromhex(x["hex"]) for x in lines if x["dir"] == "device"]
    payloads = [frame[2:-2] for frame in received]
    assert all(frame == encode_frame(p) for frame, p in zip(received, payloads, strict=True))
    assert all(decode_message(p) is not None for p in payloads)
    assert [p[0] for p in payloads] == [0x00, 0x01, 0x01, 0x03, 0x01, 0x02, 0x00, 0x01, 0x03, 0x01, 0x00]
