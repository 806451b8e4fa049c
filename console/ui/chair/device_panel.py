"""Choose the device adapter by its address, connect, and see who the device
is, the protocol it has loaded and its intensity setting.

Connecting opens the port and creates the session's record, which can take a
moment (a serial port, a device that answers slowly), so it runs on a plain
worker thread; the result comes back through a signal received by this
GUI-thread widget, never by a lambda.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from console.session.snapshot import LiveSnapshot
from console.ui.chair.plain_words import GENERAL, DetailsFold, device_problem, place_words
from console.ui.widgets.big_numbers import _set
from console.ui.widgets.formatting import DASH
from devices.adapter import redact_url
from devices.combined import TRACKER_LOST

log = logging.getLogger(__name__)

RECENT_KEY = "device/recent_urls"
TRACKER_KEY = "device/recent_tracker_urls"
CONNECT_KEYS = "Ctrl+D"


def serial_port_urls() -> list[str]:
    """Serial ports present on this machine, as device addresses: each port once per kind of
    device that plugs into a serial port (TSCP, a MagVenture, a Magstim...), so a technician picks
    the stimulator's kind with its port instead of typing a scheme (issue 16)."""
    try:
        from serial.tools import list_ports

        from devices.registry import adapter_schemes

        kinds = [s for s in adapter_schemes() if s.endswith("+serial")]
        kinds = sorted(kinds, key=lambda s: (s != "tscp+serial", s))  # our own protocol first
        ports = sorted(list_ports.comports(), key=lambda p: p.device)
        return [f"{kind}://{p.device}" for p in ports for kind in kinds]
    except Exception:  # listing ports is a convenience: never fatal
        log.exception("serial ports could not be listed")
        return []


def recent_urls(key: str = RECENT_KEY) -> list[str]:
    """The device addresses connected to last, newest first (``key``: the trackers' list).

    After a restart QSettings reads a stored list of one back as a bare string
    (and may give None for none): iterating that string would remember its
    characters as addresses.
    """
    value = QSettings().value(key, [])
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [url for url in value if isinstance(url, str) and url]
    return []


def remember_url(url: str, key: str = RECENT_KEY) -> None:
    """Put ``url`` first in the recent addresses (at most eight kept)."""
    recent = [url] + [u for u in recent_urls(key) if u != url]
    QSettings().setValue(key, recent[:8])


class _Relay(QObject):
    """Carries the worker's result into the GUI thread."""

    done = Signal(object, str)  # the opened runner or None, an error message


def protocol_words(snap: LiveSnapshot, expected: str | None) -> str:
    """What the device has loaded, and whether Start waits for it: before the device confirms
    the course's protocol, the panel says so, never a different protocol beside an enabled Start."""
    course = snap.course_protocol or expected
    if snap.protocol_confirmed or snap.state != "ready":
        return snap.protocol_name or "not reported yet"
    if course is None:
        return snap.protocol_name or "not reported yet"
    return (f"not confirmed yet: waiting for the device to report {course}, the course's protocol "
            "(load it at the device's panel if it does not take it from the console)")


class WideFold(DetailsFold):
    """The device's problem laid out for a wide row: the plain words and their "Details" button
    side by side, the details under them. The technician's workspace puts it in the session
    view's message row, where it is one or two lines, not five in the narrow device panel (at
    1280×720 those cut the words off, issue 20 item 7)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = self.layout()
        assert column is not None  # DetailsFold made it
        while column.takeAt(0) is not None:  # emptied first, so no widget moves with it
            pass
        QWidget().setLayout(column)  # the column layout goes; its widgets stay here
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.text, 0, 0)
        grid.addWidget(self.toggle, 0, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.details, 1, 0, 1, 2)
        grid.setColumnStretch(0, 1)


class DevicePanel(QFrame):
    """Device address, Connect, and what the device reports; ``connected(runner)`` when open."""

    connected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setAccessibleName("Device")
        self._opener: Callable[[str], Any] | None = None
        self._thread: threading.Thread | None = None
        self._relay = _Relay(self)
        self._relay.done.connect(self._finished)
        caption = QLabel("DEVICE", self)
        caption.setObjectName("caption")
        self.url = QComboBox(self)
        self.url.setEditable(True)
        self.url.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.url.setAccessibleName("Device address")
        editor = self.url.lineEdit()
        assert editor is not None  # setEditable(True) made it
        editor.setAccessibleName("Device address")
        self.url.setToolTip("scheme://location, e.g. tscp+serial:///dev/ttyUSB0")
        editor.returnPressed.connect(self.connect_device)
        # A coil tracker of its own (NDI, Localite): optional, empty when the stimulator tracks
        # (a TSCP device) or nothing does (issue 17).
        self.tracker = QComboBox(self)
        self.tracker.setEditable(True)
        self.tracker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.tracker.setAccessibleName("Coil tracker address")
        tracker_editor = self.tracker.lineEdit()
        assert tracker_editor is not None
        tracker_editor.setAccessibleName("Coil tracker address")
        tracker_editor.setPlaceholderText("Coil tracker: none apart from the stimulator")
        self.tracker.setToolTip("A coil tracker apart from the stimulator, e.g. ndi+serial:///dev/ttyUSB1 "
                                "or localite+tcp://NAVIGATOR-PC:6666; leave empty when there is none")
        tracker_editor.returnPressed.connect(self.connect_device)
        self.connect_button = QPushButton(f"Connect   {CONNECT_KEYS}", self)
        self.connect_button.setShortcut(QKeySequence(CONNECT_KEYS))
        self.connect_button.setAccessibleName("Connect to the device")
        self.connect_button.setObjectName("primary")
        self.connect_button.setAutoDefault(True)
        self.connect_button.clicked.connect(self.connect_device)
        self.address = QLabel("", self)
        self.address.setObjectName("hint")
        self.address.setAccessibleName("Device address in use")
        self.address.setTextFormat(Qt.TextFormat.PlainText)
        self.address.setVisible(False)
        self.address.setMinimumWidth(10)
        self.address.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status = QLabel("Not connected", self)
        self.status.setObjectName("subValue")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Device status")
        # Plain words for a failure or for where the device is; the exact text under "Details".
        self.problem = WideFold(self)
        self.problem.setAccessibleName("Device problem")
        self.identity = QLabel(DASH, self)
        self.protocol = QLabel(DASH, self)
        self.intensity = QLabel(DASH, self)
        self.details = QWidget(self)
        self.details.setObjectName("plain")
        grid = QGridLayout(self.details)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        for row, (name, label) in enumerate(
            (("Device", self.identity), ("Loaded", self.protocol), ("Set to", self.intensity))
        ):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setAccessibleName(f"Device {name.lower()}")
            if label is self.identity:  # under the DEVICE heading its name needs no caption: one line
                grid.addWidget(label, row, 0, 1, 2)
                continue
            cap = QLabel(name, self.details)
            cap.setObjectName("hint")
            grid.addWidget(cap, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(label, row, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)  # compact: the chair fits a 1280×720 screen (issue 20)
        layout.setSpacing(4)
        heading = QHBoxLayout()  # the caption and the state on one line: a line saved at 720 px
        heading.setSpacing(10)
        heading.addWidget(caption, 0, Qt.AlignmentFlag.AlignTop)
        heading.addWidget(self.status, 1)
        layout.addLayout(heading)
        layout.addWidget(self.url)
        layout.addWidget(self.tracker)
        # The tracker's field takes a line only where a tracker is used: shown when one was used
        # before, or asked for with "+ Tracker" (the chair fits a 1280×720 screen: issue 20).
        self.add_tracker = QPushButton("+ Tracker", self)
        self.add_tracker.setAccessibleName("Add a coil tracker apart from the stimulator")
        self.add_tracker.setToolTip(self.tracker.toolTip())
        self.add_tracker.clicked.connect(self.show_tracker)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.connect_button, 1)
        buttons.addWidget(self.add_tracker)
        layout.addLayout(buttons)
        layout.addWidget(self.address)
        layout.addWidget(self.problem)
        layout.addWidget(self.details)
        self.details.setVisible(False)  # what the device says, once it is connected
        self.expected_protocol: str | None = None
        self.prescribed_mso: int | None = None
        self.is_connected = False
        self.tracker_label: str | None = None
        self._tracker_wanted = False
        self._fill_urls()

    # ------------------------------------------------------------------ choices
    def _fill_urls(self, preferred: str | None = None) -> None:
        urls: list[str] = []
        for url in ([preferred] if preferred else []) + recent_urls() + serial_port_urls():
            if url and url not in urls:
                urls.append(url)
        self.url.clear()
        self.url.addItems(urls)
        if urls:
            self.url.setCurrentIndex(0)
        trackers = [""] + [u for u in recent_urls(TRACKER_KEY) if u]
        self.tracker.clear()
        self.tracker.addItems(list(dict.fromkeys(trackers)))
        self.tracker.setCurrentIndex(0)
        self._tracker_wanted = len(trackers) > 1  # this chair used a tracker before
        self._show_tracker_field()

    def show_tracker(self) -> None:
        """Ask for a coil tracker's address too (the "+ Tracker" button)."""
        self._tracker_wanted = True
        self._show_tracker_field()
        self.tracker.setFocus()

    def _show_tracker_field(self) -> None:
        choosing = not self.is_connected
        self.tracker.setVisible(choosing and self._tracker_wanted)
        self.add_tracker.setVisible(choosing and not self._tracker_wanted)

    def set_url(self, url: str) -> None:
        """Put ``url`` first (the demo's simulator, the chair's usual device)."""
        self._fill_urls(preferred=url)

    def set_opener(self, opener: Callable[[str], Any]) -> None:
        """``opener(url)`` opens the device and the session; it runs on a worker thread."""
        self._opener = opener

    def expect(self, protocol_name: str | None, prescribed_mso: int | None) -> None:
        """What the course prescribes, to compare with what the device reports."""
        self.expected_protocol = protocol_name
        self.prescribed_mso = prescribed_mso

    def set_tracker(self, label: str | None) -> None:
        """The session's separate coil tracker, as it named itself (None: there is none)."""
        self.tracker_label = label

    def reset(self) -> None:
        """Ready for the next session's connection."""
        self.join()
        self.tracker_label = None
        self.is_connected = False
        self.url.setEnabled(True)
        self.url.setVisible(True)
        self.tracker.setEnabled(True)
        self._show_tracker_field()
        self.address.setVisible(False)
        self.details.setVisible(False)
        self.connect_button.setEnabled(True)
        self.connect_button.setVisible(True)
        self.status.setText("Not connected")
        self.problem.show_text("", "")
        for label in (self.identity, self.protocol, self.intensity):
            label.setText(DASH)

    # --------------------------------------------------------------- connecting
    @property
    def connecting(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def connect_device(self) -> None:
        if self.connecting or self.is_connected or self._opener is None:
            return
        url = self.url.currentText().strip()
        if not url:
            self.status.setText("Type the device's address, e.g. tscp+serial:///dev/ttyUSB0")
            return
        tracker = self.tracker.currentText().strip() or None
        self.status.setText(f"Connecting to {redact_url(url)}" + (" and the coil tracker" if tracker else "")
                            + " …")
        self.url.setEnabled(False)
        self.tracker.setEnabled(False)
        self.connect_button.setEnabled(False)
        self._thread = threading.Thread(target=self._work, args=(self._opener, url, tracker),
                                        name="device-connect")
        self._thread.start()

    def _work(self, opener: Callable[..., Any], url: str, tracker: str | None = None) -> None:
        """Worker thread: open, then hand the result to the GUI thread."""
        try:
            runner = opener(url, tracker) if tracker else opener(url)
        except Exception as exc:  # every failure is shown as words, never a traceback
            log.warning("connecting to %s failed: %s", redact_url(url), redact_url(str(exc)))
            self._relay.done.emit(None, redact_url(str(exc)) or type(exc).__name__)
            return
        self._relay.done.emit(runner, "")

    def _finished(self, runner: object, error: str) -> None:
        self.join()
        if runner is None:
            self.status.setText("Not connected")
            self.problem.show_text(device_problem(error) or GENERAL, error)
            self.url.setEnabled(True)
            self.tracker.setEnabled(True)
            self.connect_button.setEnabled(True)
            self.connect_button.setFocus()
            return
        self.is_connected = True
        url = redact_url(self.url.currentText().strip())  # a secret (an unlock code) is never kept
        remember_url(url)
        tracker = redact_url(self.tracker.currentText().strip())
        if tracker:
            remember_url(tracker, TRACKER_KEY)
            url = f"{url} + {tracker}"
        # Connected: the choice gives way to what the device says (one device per session).
        self.connect_button.setVisible(False)
        self.url.setVisible(False)
        self._show_tracker_field()
        place = place_words(url)
        self.address.setText(place[:1].upper() + place[1:])
        self.address.setWordWrap(True)
        self.address.setToolTip(url)
        self.address.setVisible(True)
        self.address.setAccessibleDescription(f"Device address: {url}")  # the exact address, on hover
        self.problem.show_text("", "")
        self.details.setVisible(True)
        self.status.setText("Connected")
        self.connected.emit(runner)

    def join(self, timeout: float = 30.0) -> None:
        """Wait for a connection attempt to finish (on shutdown and before the next one)."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    # ------------------------------------------------------------------ updates
    def show_snapshot(self, snap: LiveSnapshot) -> None:
        if not self.is_connected:
            return
        if snap.device_connected:
            state = (snap.device_state or "").lower()
            _set(self.status, f"Connected{', ' + state if state else ''}")
        else:
            _set(self.status, "Connection lost: reconnecting …")
        identity = snap.device_label or DASH
        if self.tracker_label:  # a coil tracker of its own (issue 17): named, and said when lost
            lost = TRACKER_LOST in snap.faults_active
            identity += f"\nTracker: {self.tracker_label}" + (" — not answering" if lost else "")
        _set(self.identity, identity)
        _set(self.protocol, protocol_words(snap, self.expected_protocol))
        if snap.mso is None:
            _set(self.intensity, "not reported yet")
        elif self.prescribed_mso is not None and snap.mso != self.prescribed_mso:
            _set(self.intensity, f"{snap.mso} % MSO ≠ prescribed {self.prescribed_mso}")
        else:
            _set(self.intensity, f"{snap.mso} % MSO")
