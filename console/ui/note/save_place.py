"""Where a "Save as…" dialog opens: the folder last saved to, else the user's Documents folder.

Never the program's working folder: started with ``make run`` that is the
source tree, where a patient's note must not land by a careless Enter. The
last folder is remembered for as long as the program runs (one person at one
computer saves their notes and reports to one place).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

_last_folder: Path | None = None


def documents_folder() -> Path:
    """The user's Documents folder (the platform's own), or the home folder when there is none."""
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    folder = Path(found) if found else Path.home()
    return folder if folder.is_dir() else Path.home()


def suggested_path(file_name: str) -> str:
    """The path a save dialog proposes for ``file_name``."""
    folder = _last_folder if _last_folder is not None and _last_folder.is_dir() else documents_folder()
    return str(folder / file_name)


def remember(path: Path | str) -> None:
    """A file was saved at ``path``: the next dialog opens in its folder."""
    global _last_folder
    _last_folder = Path(path).parent


def forget() -> None:
    """Back to the Documents folder (for tests, and a new person at the computer)."""
    global _last_folder
    _last_folder = None
