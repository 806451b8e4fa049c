"""The domain: session engine, clinic records, notes, review — plain Python.

Nothing in ``console`` (outside ``console.ui``) imports Qt widgets; the
import-linter contracts in pyproject.toml check it.
"""

__version__ = "0.1.0"
