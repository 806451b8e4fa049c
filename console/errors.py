"""The errors the domain raises for a request it cannot accept or a person may not make.

Kept at the bottom of the domain so every feature package can raise them
without importing another feature.
"""


class ClinicError(ValueError):
    """A request the clinic's records cannot accept; the message is for the person who made it."""


class PermissionDenied(PermissionError):
    """The person may not do this; the message says who and what, in plain words."""
