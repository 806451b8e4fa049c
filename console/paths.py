"""Where the program keeps its files by default (platformdirs), so nothing is
written next to the code or in the working directory by accident."""

from __future__ import annotations

from pathlib import Path

from platformdirs import PlatformDirs

DIRS = PlatformDirs(appname="tms-session-console", appauthor=False)


def default_db_path() -> Path:
    return Path(DIRS.user_data_dir) / "tms-console.db"


def log_dir() -> Path:
    return Path(DIRS.user_log_dir)
