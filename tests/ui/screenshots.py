"""Screenshots of the technician's screens from a real simulated session:
``python -m tests.ui.screenshots [OUT_DIR]`` (offscreen; about two minutes).

The simulator runs a 10 Hz session as its own process on a pty with the
drift and unplug scenarios, so the pictures show what a technician sees:
on target, off target, device lost, and the end of the session.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from console.ui.main_window import MainWindow
from console.ui.widgets.theme import apply_style
from devices.sim.process import SimulatorProcess
from tests.ui.conftest import make_clinic

ROOT = Path(__file__).resolve().parents[2]


def wait(condition, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the screen did not get there in time")
        QApplication.processEvents()
        time.sleep(0.005)


def settle(seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_style(app)
    with tempfile.TemporaryDirectory() as tmp:
        clinic = make_clinic(Path(tmp) / "clinic.db")
        link = Path(tmp) / "ttyTMS"
        with SimulatorProcess("10hz", speed=20, seed=4, pose_hz=30, scenarios=["drift", "unplug"],
                              link=link) as sim:
            window = MainWindow(clinic.db, clinic.path, device_url=sim.url)
            window.resize(1280, 800)
            window.show()
            window.set_user(clinic.technician)
            chair = window.chair
            try:
                settle()
                window.grab().save(str(out / "start_of_day.png"))
                chair.start_page.search.setText("P-1001")
                chair.start_page.refresh()
                chair.start_page.begin()
                wait(lambda: chair.currentWidget() is chair.checklist)
                for item in chair.checklist.items:
                    (item.yes if "no" in item.note_on else item.no).setChecked(True)
                chair.checklist.items[1].yes.setChecked(True)
                chair.checklist.items[1].note.setText("Sertraline raised to 100 mg on Monday")
                settle()
                window.grab().save(str(out / "checklist.png"))
                chair.checklist.proceed.click()
                chair.device_panel.connect_button.click()
                wait(lambda: chair.runner is not None and chair.session_view.controls.start.isEnabled())
                chair.session_view.controls.start.click()
                view = chair.session_view
                wait(lambda: view.bridge.last is not None and view.bridge.last.pulses_delivered >= 1000
                     and view.bridge.last.zone == "on")
                settle()
                window.grab().save(str(out / "live_on_target.png"))
                wait(lambda: "off_target" in view.band.kinds and view.bridge.last.zone == "off")
                settle(0.1)
                window.grab().save(str(out / "live_off_target.png"))
                wait(lambda: "device_lost" in view.band.kinds)
                settle(0.5)
                window.grab().save(str(out / "live_device_lost.png"))
                wait(lambda: chair.currentWidget() is chair.end_page)
                end = chair.end_page
                end.add_side_effect("headache", 3, "mild, eased by the end")
                end.observations.mood.setEditText("Calm")
                end.observations.patient_said.setPlainText("I slept better this week.")
                end.observations.technician_saw.setPlainText("Smiled when greeted; sat still throughout.")
                end.observations.wants_to_work_on.setText("getting back to walking")
                settle()
                window.grab().save(str(out / "end_of_session.png"))
                end.proceed.click()
                wait(lambda: chair.currentWidget() is chair.note_page)
                settle(0.5)
                window.grab().save(str(out / "handoff_note_page.png"))
            finally:
                window.shutdown()
                window.close()
                clinic.db.close()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
