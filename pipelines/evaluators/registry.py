"""Every evaluator by ``name@version``: the built-ins, registered explicitly, once.

Not an import side effect: this module lists what it registers (catalog.BUILT_IN), so
base.py, the catalog and the judge import nothing above them.
"""

from __future__ import annotations

from pipelines.errors import AflError
from pipelines.evaluators.base import Evaluator
from pipelines.evaluators.catalog import BUILT_IN

_REGISTRY: dict[str, Evaluator] = {}


def register(evaluator: Evaluator) -> Evaluator:
    if evaluator.key in _REGISTRY:
        raise AflError(f"evaluator {evaluator.key} is registered twice")
    _REGISTRY[evaluator.key] = evaluator
    return evaluator


for _evaluator in BUILT_IN:
    register(_evaluator)


def get_evaluator(key: str) -> Evaluator:
    """``name@version``; a bare name means its newest version."""
    if "@" not in key:
        versions = sorted((e.version, k) for k, e in _REGISTRY.items() if e.name == key)
        if not versions:
            raise AflError(f"unknown evaluator {key!r}; known: {', '.join(sorted(_REGISTRY))}")
        return _REGISTRY[versions[-1][1]]
    if key not in _REGISTRY:
        raise AflError(f"unknown evaluator {key!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[key]


def registered() -> list[Evaluator]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]
