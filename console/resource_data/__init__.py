"""The clinic's resource files, read once and checked: the loader and typed accessors.

Sits at the bottom of the domain (beside ``console.errors``): it imports only
``resources`` (data) and jsonschema, so every feature package and every widget
can use it.
"""

from console.resource_data.loader import ResourceError, clear_cache, load, shipped_names, validate_all

__all__ = ["ResourceError", "clear_cache", "load", "shipped_names", "validate_all"]
