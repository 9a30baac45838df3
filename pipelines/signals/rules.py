"""Signal rules, read from a reviewed YAML file: what to watch, when to act, when to undo.

One kind of rule today, a failing share: per tenant and target (a tool, an agent), the
share of a window's counted events that failed. Above ``above`` the rule issues
``command`` (degrade a tool, pause an agent); once a whole window that began after the
command's evidence window stays below ``below``, it issues the undo. A bad file is one
line naming the rule and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pipelines.errors import AflError, read_yaml
from pipelines.producer.control import COMMANDS, TARGET_KINDS

SHIPPED_RULES = Path(__file__).with_name("rules.yml")
_DURATION = re.compile(r"^([1-9][0-9]*)(s|m|h)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours"}
_KEYS = {
    "name", "event_type", "target_kind", "target", "counted", "failing", "window", "slide",
    "min_events", "above", "below", "command",
}  # fmt: skip


@dataclass(frozen=True)
class SignalRule:
    name: str
    event_type: str
    target_kind: str
    target: str  # the column naming the target
    counted: tuple[tuple[str, tuple[str, ...]], ...]  # column -> values a window counts
    failing: tuple[tuple[str, tuple[str, ...]], ...]  # of those, the failures
    window: timedelta
    slide: timedelta
    min_events: int
    above: float
    below: float
    command: str  # pause or degrade; its undo is COMMANDS[command]

    @property
    def undo(self) -> str:
        return COMMANDS[self.command]

    @property
    def issuer(self) -> str:
        return f"rule:{self.name}"

    def describe(self) -> str:
        counted = "; ".join(f"{c} in {', '.join(v)}" for c, v in self.counted)
        failing = "; ".join(f"{c} in {', '.join(v)}" for c, v in self.failing)
        return (
            f"{self.name}: {self.command} {self.target_kind} ({self.event_type} by "
            f"{self.target}) when over {self.above:.0%} of [{counted}] are [{failing}] in a "
            f"{_short(self.window)} window (sliding every {_short(self.slide)}, at least "
            f"{self.min_events} events); {self.undo} under {self.below:.0%}"
        )


def _short(length: timedelta) -> str:
    seconds = int(length.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def load_rules(path: str = "") -> tuple[SignalRule, ...]:
    """The rules in ``path`` (default: the shipped file)."""
    source = Path(path) if path else SHIPPED_RULES
    doc = read_yaml(source, "signal rules file", "AFL_SIGNAL_RULES") or {}
    entries = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise AflError(f"signal rules {source}: expected a list under 'rules'")
    rules = tuple(_rule(source, n, entry) for n, entry in enumerate(entries, 1))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise AflError(f"signal rules {source}: rule names repeat: {sorted(names)}")
    return rules


def _rule(source: Path, n: int, entry: Any) -> SignalRule:
    where = f"signal rules {source}: rule {n}"
    if not isinstance(entry, dict):
        raise AflError(f"{where}: expected a mapping")
    missing = sorted(_KEYS - set(entry))
    unknown = sorted(set(entry) - _KEYS)
    if missing or unknown:
        raise AflError(f"{where}: missing {missing}, unknown {unknown}")
    if entry["target_kind"] not in TARGET_KINDS:
        raise AflError(f"{where}: target_kind must be one of {', '.join(TARGET_KINDS)}")
    if entry["command"] not in COMMANDS:
        raise AflError(f"{where}: command must be one of {', '.join(COMMANDS)}")
    above, below = entry["above"], entry["below"]
    if not all(isinstance(x, int | float) and 0 <= x <= 1 for x in (above, below)):
        raise AflError(f"{where}: above and below are shares between 0 and 1")
    if below >= above:
        raise AflError(f"{where}: below ({below}) must be under above ({above})")
    if not isinstance(entry["min_events"], int) or entry["min_events"] < 1:
        raise AflError(f"{where}: min_events must be a positive whole number")
    window, slide = _duration(where, "window", entry), _duration(where, "slide", entry)
    if slide > window:
        raise AflError(f"{where}: slide ({entry['slide']}) is longer than window")
    return SignalRule(
        name=str(entry["name"]),
        event_type=str(entry["event_type"]),
        target_kind=entry["target_kind"],
        target=str(entry["target"]),
        counted=_values(where, "counted", entry),
        failing=_values(where, "failing", entry),
        window=window,
        slide=slide,
        min_events=entry["min_events"],
        above=float(above),
        below=float(below),
        command=entry["command"],
    )


def _duration(where: str, key: str, entry: dict[str, Any]) -> timedelta:
    match = _DURATION.match(str(entry[key]))
    if match is None:
        raise AflError(f"{where}: {key} must be like 30s, 5m or 1h, got {entry[key]!r}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _values(where: str, key: str, entry: dict[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    found = entry[key]
    if (
        not isinstance(found, dict)
        or not found
        or not all(isinstance(v, list) and v for v in found.values())
    ):
        raise AflError(f"{where}: {key} maps columns to lists of values")
    return tuple((str(c), tuple(str(v) for v in vs)) for c, vs in sorted(found.items()))
