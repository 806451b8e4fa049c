"""Headless commands (record, export, note, simulate, ...): the composition layer
beside main.py. Each module adds one sub-command through ``register(subparsers)``;
``main.COMMANDS`` imports them by name (tests/test_commands.py fails when a module
here with a ``register`` is missing from it). A command may use every layer below it."""
