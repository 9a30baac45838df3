"""Errors a person can act on.

Anything raised as an ``AflError`` is printed by the CLI as one line, without a stack
trace: the message must say what went wrong and what to do about it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class AflError(Exception):
    """A failure with a message meant for the person running the command."""


class SettingsError(AflError):
    """An environment variable holds a value the platform cannot use."""


def root_cause(message: str) -> str:
    """The innermost 'SomeError: text' line of a Python/JVM trace, for a one-line message.

    JVM causes come as 'Caused by: a.b.SomeException: text', and py4j puts the JVM's first
    line after ': '; the last such line is the innermost cause."""
    causes = re.findall(
        r"^\s*(?:Caused by: |: )?(?:[\w.$]+\.)?(\w+(?:Error|Exception)): (.+)$", message, re.M
    )
    if causes:
        name, text = causes[-1]
        return f"{name}: {text.strip()}"
    lines = message.strip().splitlines()
    return lines[0] if lines else ""


def read_yaml(source: Path, what: str, setting: str = "") -> Any:
    """A reviewed YAML file's document; a missing or unparsable file is one line naming
    ``what`` it is, the path and the variable that points at it."""
    try:
        return yaml.safe_load(source.read_text())
    except FileNotFoundError:
        pointed = f" ({setting})" if setting else ""
        raise AflError(f"{what} not found: {source}{pointed}") from None
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())  # PyYAML's message spans lines
        raise AflError(f"{what} {source} is not valid YAML: {reason}") from None
