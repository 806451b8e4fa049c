"""Headless commands (record, export, note, simulate, ...): the composition layer
beside main.py. Each module adds one sub-command through ``register(subparsers)``
and may use every layer below it."""
