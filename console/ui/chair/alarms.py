"""Alarms a person notices: a colour band across the session screen, a plain
message, and a sound that can be muted.

The runner decides what is an alarm and records each one; this module only
shows them. Muting silences the alarms showing now: an alarm that starts later
sounds again, so a muted band never hides a new problem.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from console.session.snapshot import Alarm, LiveSnapshot
from console.ui.widgets.big_numbers import _set

log = logging.getLogger(__name__)

# Most serious first: the band shows the first one present.
PRIORITY = ("device_lost", "device_fault", "tracker_lost", "off_target", "intensity")
HEADLINES = {
    "device_lost": "Device connection lost",
    "device_fault": "Device fault",
    "tracker_lost": "Tracker cannot see the coil",
    "off_target": "Coil off target",
    "intensity": "Intensity differs from the prescription",
}
LEVELS = {"device_lost": "alarm", "device_fault": "alarm", "off_target": "alarm",
          "tracker_lost": "warn", "intensity": "warn"}
# Plain words for the technician; the technical reason stays in the record and the log.
EXPLANATIONS = {
    "device_lost": "The session is kept: recording resumes when the device answers again, and the gap "
                   "stays in the record. Check the cable and the device.",
    "tracker_lost": "No coil position: check that the tracker can see the coil's markers.",
}
NOT_TRACKED = "The coil position is not tracked for this course"
STATE_WORDS = {
    "ready": "Ready",
    "armed": "Armed: waiting for the device's first train",
    "running": "Recording",
    "paused": "Paused",
    "ended": "Session ended",
    "interrupted": "Session interrupted",
}


def ordered(alarms: tuple[Alarm, ...]) -> list[Alarm]:
    rank = {kind: i for i, kind in enumerate(PRIORITY)}
    return sorted(alarms, key=lambda a: rank.get(a.kind, len(PRIORITY)))


class AlarmSound(QObject):
    """Beeps when an alarm starts and every few seconds while one is active and not muted.

    QtMultimedia is not part of PySide6-Essentials, so the sound is the
    platform's alert (``QApplication.beep``); ``played`` counts the beeps.
    """

    REPEAT_MS = 3000

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.played = 0
        self._active: set[str] = set()
        self._muted: set[str] = set()
        self._quiet: set[str] = set()  # never sound this session (an override was recorded)
        self._timer = QTimer(self)
        self._timer.setInterval(self.REPEAT_MS)
        self._timer.timeout.connect(self._repeat)

    @property
    def audible(self) -> bool:
        return bool(self._active - self._muted - self._quiet)

    def quiet(self, kind: str) -> None:
        """``kind`` stays silent for the rest of the session (it is still shown)."""
        self._quiet.add(kind)
        self.set_active(self._active)

    def reset(self) -> None:
        """A new session: nothing muted, nothing quiet."""
        self._timer.stop()
        self._active, self._muted, self._quiet = set(), set(), set()

    def set_active(self, kinds: set[str]) -> None:
        started = kinds - self._active
        self._muted &= kinds  # an alarm that ended and comes back sounds again
        self._active = set(kinds)
        if started - self._muted - self._quiet:
            self._beep()
        if self.audible and not self._timer.isActive():
            self._timer.start()
        elif not self.audible and self._timer.isActive():
            self._timer.stop()

    def mute(self) -> None:
        """Silence the alarms active now."""
        self._muted |= self._active
        self._timer.stop()

    def stop(self) -> None:
        self._timer.stop()

    def _repeat(self) -> None:
        if self.audible:
            self._beep()

    def _beep(self) -> None:
        self.played += 1
        QApplication.beep()


class AlarmBand(QFrame):
    """The band across the top of the session screen: calm when all is well, loud when not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBand")
        self.setProperty("level", "idle")
        self.setAccessibleName("Alarm and status band")
        self.sound = AlarmSound(self)
        self.headline = QLabel(STATE_WORDS["ready"], self)
        self.headline.setObjectName("alarmText")
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        self.detail = QLabel("", self)
        self.detail.setObjectName("alarmDetail")
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        self.mute_button = QPushButton("Mute sound  Ctrl+M", self)
        self.mute_button.setAccessibleName("Mute alarm sound")
        self.mute_button.setToolTip("Silence the alarms showing now; a new alarm sounds again")
        self.mute_button.clicked.connect(self.mute)
        self.mute_button.setVisible(False)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.headline)
        text.addWidget(self.detail)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(18, 6, 18, 6)
        layout.addLayout(text, 1)
        layout.addWidget(self.mute_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.setMinimumHeight(64)
        self.kinds: tuple[str, ...] = ()

    def mute(self) -> None:
        self.sound.mute()
        self.mute_button.setEnabled(False)
        self.mute_button.setText("Sound muted")

    def show_snapshot(self, snap: LiveSnapshot) -> None:
        alarms = ordered(snap.alarms)
        kinds = tuple(a.kind for a in alarms)
        if not snap.device_connected and snap.state in ("running", "paused", "armed") and (
            "device_lost" not in kinds
        ):
            # The runner raises device_lost; until it does, the screen still says so plainly.
            alarms.insert(0, Alarm("device_lost", "", snap.elapsed_s))
            kinds = ("device_lost", *kinds)
        if kinds != self.kinds:
            self.kinds = kinds
            self.sound.set_active(set(kinds))
            self.mute_button.setVisible(bool(kinds))
            self.mute_button.setEnabled(self.sound.audible)
            self.mute_button.setText("Mute sound  Ctrl+M" if self.sound.audible else "Sound muted")
        if snap.stopping_at_panel:  # first: the device still stimulates until someone stops it
            level = "alarm"
            headline = "Stop the stimulator at its own panel now"
            detail = ("This console cannot stop it. The record stays open until its pulses have "
                      "ceased, and notes when they did.")
            if alarms:
                detail += "\nAlso: " + "; ".join(HEADLINES.get(a.kind, a.kind) for a in alarms)
        elif alarms:
            top = alarms[0]
            level = LEVELS.get(top.kind, "alarm")
            headline = HEADLINES.get(top.kind, top.kind)
            if top.kind == "device_fault" and snap.faults_active:
                headline = f"{headline}: {', '.join(snap.faults_active)}"
            lines = [self._detail(top, snap)]
            others = [HEADLINES.get(a.kind, a.kind) for a in alarms[1:]]
            if others:
                lines.append("Also: " + "; ".join(others))
            detail = "\n".join(line for line in lines if line)
        else:
            level = "ok" if snap.state == "running" else "idle"
            headline = STATE_WORDS.get(snap.state, snap.state)
            detail = self._calm_detail(snap)
        _set(self.headline, headline)
        _set(self.detail, detail)
        self.setAccessibleDescription(f"{headline}. {detail}")
        if self.property("level") != level:
            self.setProperty("level", level)
            self.style().unpolish(self)
            self.style().polish(self)

    @staticmethod
    def _detail(alarm: Alarm, snap: LiveSnapshot) -> str:
        """The alarm in plain words, with live values where they help."""
        if alarm.kind == "off_target" and snap.distance_mm is not None:
            angle = f" and {snap.angle_deg:.1f}°" if snap.angle_deg is not None else ""
            return (f"Now {snap.distance_mm:.1f} mm{angle} from the target "
                    f"(on target within {snap.tol_distance_mm:g} mm and {snap.tol_angle_deg:g}°).")
        if alarm.kind in EXPLANATIONS:
            return EXPLANATIONS[alarm.kind]
        return alarm.message

    @staticmethod
    def _calm_detail(snap: LiveSnapshot) -> str:
        if snap.state == "paused":  # the recorder knows why: the console's reason, a fault, the device
            reason = snap.pause_reason
            return f"{reason}. Resume when ready (F7)." if reason else "Resume when ready (F7)."
        if snap.state == "ended":
            status = snap.end_status or ""
            return f"{status}{': ' + snap.end_reason if snap.end_reason else ''}".strip(": ")
        untracked = "" if snap.target_tracked else NOT_TRACKED
        if snap.state == "running":
            return " · ".join(p for p in (snap.protocol_name, untracked) if p)
        if snap.state == "ready" and snap.device_connected and not snap.protocol_confirmed:
            course = snap.course_protocol or "the course's protocol"
            return (f"Waiting for the device to confirm {course} before Start. "
                    "Load it at the device's panel if it does not take it from the console.")
        if snap.state == "ready":
            # What is left to do, and nothing already done: "connect the device" beside a device
            # that is connected and armed sent people looking for a problem that was not there.
            connect = "" if snap.device_connected else "connect the device (Ctrl+D), "
            first = "Device connected and ready: " if snap.device_connected else "Checklist done: "
            if untracked:
                return f"{first}{connect}place the coil by the course's rule, then start (F5). {untracked}."
            return f"{first}{connect}check the coil, then start (F5)."
        return untracked
