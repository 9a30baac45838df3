"""Parity configuration: comparison rules per column, thresholds, cutover, from YAML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.errors import AflError, read_yaml

DEFAULT_CONFIG = Path(__file__).with_name("parity.yml")
RULES = ("exact", "numeric", "text", "timestamp")
TYPES = ("string", "int", "bigint", "double", "timestamp")


@dataclass(frozen=True)
class ColumnRule:
    column: str
    rule: str
    type: str
    abs_tolerance: float = 0.0
    rel_tolerance: float = 0.0
    case_insensitive: bool = False
    whitespace_insensitive: bool = False
    tolerance_seconds: float = 0.0
    null_equals_null: bool = True


@dataclass(frozen=True)
class ParityConfig:
    key: str
    lag_window_minutes: float
    columns: tuple[ColumnRule, ...]
    yellow_max_missing_rate: float
    yellow_max_mismatch_rate: float
    promote_after_green_days: int
    retire_after_green_days: int
    examples: int = 10

    def with_rule(self, column: str, **changes: Any) -> ParityConfig:
        """A copy with one column's rule changed (tests, what-if reports)."""
        from dataclasses import replace

        rules = tuple(replace(r, **changes) if r.column == column else r for r in self.columns)
        return replace(self, columns=rules)


def load_parity_config(path: str | Path | None = None) -> ParityConfig:
    source = Path(path) if path else DEFAULT_CONFIG
    doc = read_yaml(source, "parity config")
    try:
        if not isinstance(doc["columns"], dict):
            raise AflError(f"parity config {source}: columns must map each column to its rule")
        columns = []
        for name, spec in doc["columns"].items():
            rule = ColumnRule(column=name, **spec)
            if rule.rule not in RULES:
                raise AflError(f"{source}: column {name}: rule must be one of {', '.join(RULES)}")
            if rule.type not in TYPES:
                raise AflError(f"{source}: column {name}: type must be one of {', '.join(TYPES)}")
            columns.append(rule)
        thresholds, cutover = doc["thresholds"], doc["cutover"]

        def rate(name: str) -> float:
            return _number(source, name, thresholds[name], float, 0.0, 1.0)

        def days(name: str) -> int:
            return int(_number(source, name, cutover[name], int, 1, None))

        return ParityConfig(
            key=doc["key"],
            lag_window_minutes=_number(
                source, "lag_window_minutes", doc["lag_window_minutes"], float, 0.0, None
            ),
            columns=tuple(columns),
            yellow_max_missing_rate=rate("yellow_max_missing_rate"),
            yellow_max_mismatch_rate=rate("yellow_max_mismatch_rate"),
            promote_after_green_days=days("promote_after_green_days"),
            retire_after_green_days=days("retire_after_green_days"),
            examples=int(_number(source, "examples", doc.get("examples", 10), int, 0, None)),
        )
    except (KeyError, TypeError) as exc:
        raise AflError(f"parity config {source} is missing or misnames {exc}") from None


def _number(
    source: Path, name: str, raw: Any, kind: type, low: float | None, high: float | None
) -> float:
    """One threshold, checked: a number of the right kind within its range."""
    whole = kind is int
    if isinstance(raw, bool) or not isinstance(raw, int if whole else (int, float)):
        what = "a whole number" if whole else "a number"
        raise AflError(f"parity config {source}: {name} must be {what}, got {raw!r}")
    if (low is not None and raw < low) or (high is not None and raw > high):
        bounds = f"{low}..{high}" if high is not None else f"at least {low}"
        raise AflError(f"parity config {source}: {name} must be {bounds}, got {raw!r}")
    return float(raw)
