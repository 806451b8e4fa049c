"""The clinic's record store, by the name the domain and its widgets use.

Widgets hold the store and hand it to domain functions (``console.clinic``,
``console.safety``, ``console.review``, ...); they never read or write it
themselves. Naming the handle here keeps ``sqlite_utils`` (and SQL) out of
every module under ``console/ui``: the one place that knows the store is a
SQLite file is the domain and ``db/`` beneath it.
"""

from __future__ import annotations

from typing import TypeAlias

import sqlite_utils

Store: TypeAlias = sqlite_utils.Database
"""An open record store (the SQLite database opened by :func:`console.startup.open_store`)."""
