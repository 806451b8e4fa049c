"""Hub schema version 4: reference data that flows both ways, and the conflicts it can make.

(Filled by the pull work of issue 18: accounts and settings at the hub, revisions of mutable rows,
the conflicts table.)
"""

from __future__ import annotations

V4: list[str] = []
