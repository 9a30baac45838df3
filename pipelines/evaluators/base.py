"""Evaluators: versioned judgments over silver, one label and score per unit.

An evaluator has a name and a version (``helpfulness@2``), declares the silver tables it
reads, and returns one row per unit it judges (a turn, a session or an agent action) with a
score, a label and an explanation. Changing its logic means a new version; old versions
stay registered and runnable. ``code_hash`` fingerprints the code and configuration (and, for
a model-based judge, its prompt and model) so every stored score traces back to exactly what
produced it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from pyspark.sql import DataFrame


class Evaluator(ABC):
    """A deterministic evaluator: a pure function from silver frames to unit verdicts."""

    name: ClassVar[str]
    version: ClassVar[int]
    unit_type: ClassVar[str]  # turn | session | action
    reads: ClassVar[tuple[str, ...]]  # event types whose general silver tables are read
    description: ClassVar[str] = ""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = dict(config or {})

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def model_based(self) -> bool:
        return False

    def code_hash(self) -> str:
        """The evaluator's code (its class and bases up to Evaluator) and its configuration."""
        parts = [
            inspect.getsource(cls)
            for cls in type(self).__mro__
            if cls not in (Evaluator, ABC, object) and issubclass(cls, Evaluator)
        ]
        parts.append(json.dumps(self.config, sort_keys=True, default=str))
        parts.extend(self._hash_extras())
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def _hash_extras(self) -> list[str]:
        return []

    @abstractmethod
    def evaluate(self, frames: Mapping[str, DataFrame]) -> DataFrame:
        """One row per unit, columns as UNIT_COLUMNS. Called by the backfill, once per day."""
