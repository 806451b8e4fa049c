"""A capture (``?capture=FILE``) is the raw traffic of a patient's session: readable by its owner only,
under the usual umask 022, and also when it appends to a capture an earlier run left readable by all."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices import events as ev
from devices import registry
from tests.devices.pty_device import PtyDevice, wait_until


@pytest.fixture
def device(tmp_path: Path) -> Iterator[PtyDevice]:
    dev = PtyDevice(tmp_path / "ttyTMS0")
    dev.plug_in()
    yield dev
    dev.close()



def capture_through(device: PtyDevice, capture: Path) -> None:
    """Open the link by its address, as ``--device`` does, and let a few frames reach the capture."""
    adapter = registry.create_adapter(f"tscp+serial://{device.link}?capture={capture}")
    try:
        adapter.open()
        wait_until(lambda: "ID?" in device.names(), what="ID? from the adapter")
        device.send("INT", 1, 40)

        def intensity_arrived() -> bool:
            return any(isinstance(e, ev.Intensity) for e in adapter.events(idle_timeout=0.05))

        wait_until(intensity_arrived, 20.0, "the INT frame")
    finally:
        adapter.close()


def test_a_new_capture_is_owner_only(device: PtyDevice, tmp_path: Path, umask_022) -> None:
    capture = tmp_path / "session.tscp"
    capture_through(device, capture)
    assert capture.stat().st_size > 0
    assert stat.S_IMODE(capture.stat().st_mode) == 0o600


def test_appending_to_an_old_capture_makes_it_owner_only(device: PtyDevice, tmp_path: Path,
                                                         umask_022) -> None:
    capture = tmp_path / "session.tscp"
    capture.write_bytes(b"# earlier\n")
    capture.chmod(0o644)
    capture_through(device, capture)
    data = capture.read_bytes()
    assert data.startswith(b"# earlier\n") and len(data) > len(b"# earlier\n")  # appended, not replaced
    assert stat.S_IMODE(capture.stat().st_mode) == 0o600
