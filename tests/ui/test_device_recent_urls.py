"""The device address list remembers the addresses connected to, across restarts."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from console.ui.chair.device_panel import RECENT_KEY, DevicePanel


def test_connecting_after_a_restart_with_one_remembered_address_keeps_it_whole(qtbot) -> None:
    # After a restart QSettings reads a list of one back as a bare string (INI files).
    QSettings().setValue(RECENT_KEY, "sim://first")
    panel = DevicePanel()
    qtbot.addWidget(panel)
    assert panel.url.itemText(0) == "sim://first"
    panel.set_opener(lambda url: object())  # stands for the opened session runner
    panel.url.setEditText("sim://second")
    panel.connect_device()
    qtbot.waitUntil(lambda: panel.is_connected, timeout=10_000)

    again = DevicePanel()
    qtbot.addWidget(again)
    listed = [again.url.itemText(i) for i in range(again.url.count())]
    assert listed[:2] == ["sim://second", "sim://first"]
    assert all("://" in url for url in listed)  # no single characters of an address
