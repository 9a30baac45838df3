"""Is a new contract version safe for readers of the old one?

Adding an optional field is compatible. Removing or renaming a required field, adding a
required field, or changing a type other than by a safe widening (integer -> number,
accepting null) is not. Every finding names the field.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipelines.contracts.registry import get_contract, json_type_of, versions

SAFE_TYPE_WIDENINGS = {("integer", "number")}


@dataclass(frozen=True)
class Change:
    field: str
    kind: str
    compatible: bool
    message: str

    def __str__(self) -> str:
        verdict = "ok" if self.compatible else "INCOMPATIBLE"
        return f"{verdict:12} {self.field}: {self.message}"


def compare_schemas(
    old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "payload"
) -> list[Change]:
    """Field-by-field differences between two object schemas."""
    changes: list[Change] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
    for name, old_spec in old_props.items():
        path = f"{prefix}.{name}"
        if name not in new_props:
            if name in old_req:
                changes.append(
                    Change(
                        path,
                        "removed_required",
                        False,
                        "required field removed (a rename is a removal plus an addition)",
                    )
                )
            else:
                changes.append(
                    Change(
                        path,
                        "removed_optional",
                        True,
                        "optional field removed; readers see null from now on",
                    )
                )
            continue
        new_spec = new_props[name]
        changes.extend(_compare_types(path, old_spec, new_spec))
        if name not in old_req and name in new_req:
            changes.append(
                Change(
                    path,
                    "made_required",
                    False,
                    "optional field became required; older events may lack it",
                )
            )
        old_kind, new_kind = _kind(old_spec), _kind(new_spec)
        if old_kind == new_kind == "object" and "properties" in old_spec:
            changes.extend(compare_schemas(old_spec, new_spec, prefix=path))
    for name, spec in new_props.items():
        if name in old_props:
            continue
        path = f"{prefix}.{name}"
        if name in new_req:
            changes.append(
                Change(
                    path,
                    "added_required",
                    False,
                    "new required field; events written before it do not carry it",
                )
            )
        else:
            changes.append(
                Change(path, "added_optional", True, f"new optional {_kind(spec)} field")
            )
    return changes


def is_compatible(changes: list[Change]) -> bool:
    return all(c.compatible for c in changes)


def check_registry() -> list[tuple[str, int, int, list[Change]]]:
    """Each event type's consecutive versions compared: (type, old, new, changes)."""
    from pipelines.contracts.registry import event_types

    results = []
    for event_type in event_types():
        known = versions(event_type)
        for old_v, new_v in itertools.pairwise(known):
            old = get_contract(event_type, old_v).payload_schema
            new = get_contract(event_type, new_v).payload_schema
            results.append((event_type, old_v, new_v, compare_schemas(old, new)))
    return results


def _compare_types(path: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    old_kind, new_kind = _kind(old), _kind(new)
    if old_kind != new_kind:
        if (old_kind, new_kind) in SAFE_TYPE_WIDENINGS:
            return [Change(path, "type_widened", True, f"widened from {old_kind} to {new_kind}")]
        return [
            Change(
                path,
                "type_changed",
                False,
                f"type changed from {old_kind} to {new_kind} (not a safe widening)",
            )
        ]
    if _nullable(old) and not _nullable(new):
        return [Change(path, "null_removed", False, "no longer accepts null")]
    return []


def _kind(spec: Mapping[str, Any]) -> str:
    if "enum" in spec:
        values = [v for v in spec["enum"] if v is not None]
        return json_type_of(values[0]) if values else "null"
    if "const" in spec:
        return json_type_of(spec["const"])
    types = spec.get("type")
    names = [types] if isinstance(types, str) else [t for t in (types or []) if t != "null"]
    name = names[0] if names else "any"
    if name == "string" and spec.get("format") == "date-time":
        return "timestamp"
    if name == "array":
        return f"array<{_kind(spec.get('items', {}))}>"
    if name == "object" and "properties" not in spec and "additionalProperties" in spec:
        extra = spec["additionalProperties"]
        return f"map<{_kind(extra) if isinstance(extra, Mapping) else 'any'}>"
    return name


def _nullable(spec: Mapping[str, Any]) -> bool:
    if "enum" in spec:
        return None in spec["enum"]
    types = spec.get("type")
    return isinstance(types, list) and "null" in types
