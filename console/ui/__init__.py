"""Qt widgets and windows (PySide6, pyqtgraph): the only place that draws."""
