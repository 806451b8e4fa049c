"""When a session's record is final, the chair says so at once (the window then asks the hub's sync
to push it, issue 18): not before the record is closed, never on the window's thread."""

from __future__ import annotations

import threading

import pytest

from console.ui.chair.technician import TechnicianWorkspace
from db.database import connect
from devices.sim.process import SimulatorProcess
from tests.ui.drive import WAIT_MS, show, snapshot, to_running

pytestmark = pytest.mark.slow


def test_the_after_close_hook_runs_once_the_record_is_final_off_the_window_thread(qtbot, clinic) -> None:
    seen: list[tuple[str, str]] = []
    with SimulatorProcess("10hz", speed=20, seed=21, pose_hz=10) as sim:
        ws = TechnicianWorkspace(clinic.db, clinic.path, clinic.technician, device_url=sim.url)
        show(qtbot, ws)

        def closed() -> None:  # what the hub's push would read: the chair's file, by its own connection
            db = connect(clinic.path)
            try:
                status = db.execute("SELECT status FROM sessions WHERE id = ?", [session_id]).fetchone()[0]
            finally:
                db.close()
            seen.append((status, threading.current_thread().name))

        ws.after_close = closed
        try:
            to_running(qtbot, ws)
            qtbot.waitUntil(lambda: snapshot(ws).pulses_delivered > 20, timeout=WAIT_MS)
            session_id = ws.runner.session_id
            ws.session_view.stop("Test ends here")
            qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
        finally:
            ws.shutdown()
    assert seen == [("stopped", "session-close")]
