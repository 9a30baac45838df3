"""Spark schemas derived from the JSON Schema contracts (never typed by hand)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import types as T

from pipelines.contracts.registry import Contract, ContractSet, contract_set, json_type_of
from pipelines.errors import AflError

_PRIMITIVES: dict[str, T.DataType] = {
    "string": T.StringType(),
    "integer": T.LongType(),
    "number": T.DoubleType(),
    "boolean": T.BooleanType(),
}

# Widening a reader can always do: an old value fits the new type without loss.
SAFE_WIDENINGS = {(T.LongType(), T.DoubleType())}


def spark_type(spec: Mapping[str, Any]) -> tuple[T.DataType, bool]:
    """The Spark type of one JSON Schema property, and whether it may be null."""
    if "const" in spec:
        return _PRIMITIVES[json_type_of(spec["const"])], False
    if "enum" in spec:
        values = [v for v in spec["enum"] if v is not None]
        kinds = {json_type_of(v) for v in values}
        if len(kinds) != 1:
            raise AflError(f"enum mixes JSON types {sorted(kinds)}; give the field one type")
        return _PRIMITIVES[kinds.pop()], None in spec["enum"]
    types = spec.get("type")
    names = [types] if isinstance(types, str) else list(types or [])
    nullable = "null" in names
    names = [n for n in names if n != "null"]
    if len(names) != 1:
        raise AflError(f"a contract field needs exactly one non-null type, got {names}")
    name = names[0]
    if name == "string" and spec.get("format") == "date-time":
        return T.TimestampType(), nullable
    if name in _PRIMITIVES:
        return _PRIMITIVES[name], nullable
    if name == "array":
        item_type, _ = spark_type(spec.get("items", {"type": "string"}))
        return T.ArrayType(item_type, containsNull=True), nullable
    if name == "object":
        if "properties" in spec:
            return struct_of(spec), nullable
        extra = spec.get("additionalProperties")
        if isinstance(extra, Mapping):
            value_type, _ = spark_type(extra)
            return T.MapType(T.StringType(), value_type, valueContainsNull=True), nullable
        return T.MapType(T.StringType(), T.StringType()), nullable
    raise AflError(f"no Spark type for JSON Schema type {name!r}")


def struct_of(spec: Mapping[str, Any]) -> T.StructType:
    """A StructType from an object schema, in the contract's property order."""
    required = set(spec.get("required", []))
    fields = []
    for name, prop in spec.get("properties", {}).items():
        dtype, nullable = spark_type(prop)
        meta = {"comment": prop["description"]} if "description" in prop else {}
        if "x-classification" in prop:
            meta["classification"] = prop["x-classification"]
        fields.append(T.StructField(name, dtype, nullable or name not in required, meta))
    return T.StructType(fields)


def event_schema(contract: Contract) -> T.StructType:
    return struct_of(contract.event_schema)


def merged_event_schema(event_type: str, contracts: ContractSet | None = None) -> T.StructType:
    """Every version's fields together: older fields first, newer ones appended, widened."""
    cs = contracts or contract_set()
    return merged_schema([cs.get(event_type, v) for v in cs.versions(event_type)])


def merged_schema(contracts: Sequence[Contract]) -> T.StructType:
    """The union of some contract versions' event schemas, in version order."""
    merged: T.StructType | None = None
    for contract in sorted(contracts, key=lambda c: c.version):
        schema = event_schema(contract)
        merged = schema if merged is None else merge_structs(merged, schema)
    if merged is None:
        raise AflError("no contracts to merge")
    return merged


def merge_structs(old: T.StructType, new: T.StructType) -> T.StructType:
    by_name = {f.name: f for f in new.fields}
    fields = []
    for f in old.fields:
        other = by_name.pop(f.name, None)
        if other is None:
            fields.append(f)
            continue
        fields.append(
            T.StructField(
                f.name,
                _wider(f.dataType, other.dataType, f.name),
                f.nullable or other.nullable,
                {**f.metadata, **other.metadata},
            )
        )
    fields.extend(by_name.values())
    return T.StructType(fields)


def _wider(a: T.DataType, b: T.DataType, name: str) -> T.DataType:
    if a == b:
        return a
    if isinstance(a, T.StructType) and isinstance(b, T.StructType):
        return merge_structs(a, b)
    if (a, b) in SAFE_WIDENINGS:
        return b
    if (b, a) in SAFE_WIDENINGS:
        return a
    raise AflError(f"{name}: {a.simpleString()} and {b.simpleString()} cannot be merged")
