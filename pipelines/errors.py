"""Errors a person can act on.

Anything raised as an ``AflError`` is printed by the CLI as one line, without a stack
trace: the message must say what went wrong and what to do about it.
"""

from __future__ import annotations

import re


class AflError(Exception):
    """A failure with a message meant for the person running the command."""


class SettingsError(AflError):
    """An environment variable holds a value the platform cannot use."""


def root_cause(message: str) -> str:
    """The innermost 'SomeError: text' line of a Python/JVM trace, for a one-line message."""
    causes = re.findall(r"^\s*(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$", message, re.M)
    if causes:
        name, text = causes[-1]
        return f"{name}: {text.strip()}"
    lines = message.strip().splitlines()
    return lines[0] if lines else message
