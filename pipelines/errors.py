"""Errors a person can act on.

Anything raised as an ``AflError`` is printed by the CLI as one line, without a stack
trace: the message must say what went wrong and what to do about it.
"""


class AflError(Exception):
    """A failure with a message meant for the person running the command."""


class SettingsError(AflError):
    """An environment variable holds a value the platform cannot use."""
