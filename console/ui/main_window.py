"""The main window: the frame the technician, supervisor and admin screens live in."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from console import __version__


class MainWindow(QMainWindow):
    def __init__(self, demo: bool = False) -> None:
        super().__init__()
        self.setWindowTitle("TMS Session Console" + (" — DEMO database" if demo else ""))
        self.resize(1280, 800)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        title = QLabel("TMS Session Console", central)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setStyleSheet("font-size: 32px; font-weight: 600;")
        subtitle = QLabel(f"version {__version__}", central)
        subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addStretch(1)
        self.setCentralWidget(central)
