"""Spark schemas derived from the JSON Schema contracts (never typed by hand)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.contracts.registry import Contract, ContractSet, contract_set, json_type_of
from pipelines.contracts.timestamps import parse_timestamp
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


# -- can silver hold a contract-valid value exactly? -------------------------------------
#
# JSON Schema and Spark disagree at the edges: a contract's "integer" admits 1.0 and
# integers beyond 64 bits, its "date-time" admits lowercase 't'/'z', leap seconds and
# offsets beyond +-18:00 (pipelines.contracts.timestamps). Spark's JSON reader turns each
# of those into a silent null. An event carrying one is quarantined instead, naming the
# field, so no value is lost.

BIGINT_RANGE = (-(2**63), 2**63 - 1)


def unrepresentable(value: Any, dtype: T.DataType, path: str) -> tuple[str, str] | None:
    """(field path, why) for the first value Spark would not read exactly as ``dtype``."""
    if value is None:
        return None
    if isinstance(dtype, T.LongType):
        if isinstance(value, float):
            return path, f"{value!r} is not written as a whole number; silver keeps it as bigint"
        if isinstance(value, int) and not BIGINT_RANGE[0] <= value <= BIGINT_RANGE[1]:
            return path, f"{value} is outside the bigint range silver keeps it in"
    elif isinstance(dtype, T.TimestampType):
        if isinstance(value, str) and parse_timestamp(value) is None:
            return path, (
                f"{value[:64]!r} is not a timestamp silver can keep exactly "
                "(YYYY-MM-DDTHH:MM:SS[.f]Z or +-HH:MM up to 18:00, years 0001-9999)"
            )
    elif isinstance(dtype, T.StructType) and isinstance(value, dict):
        for f in dtype.fields:
            found = unrepresentable(value.get(f.name), f.dataType, f"{path}.{f.name}".lstrip("."))
            if found:
                return found
    elif isinstance(dtype, T.ArrayType) and isinstance(value, list):
        for i, item in enumerate(value):
            found = unrepresentable(item, dtype.elementType, f"{path}[{i}]")
            if found:
                return found
    elif isinstance(dtype, T.MapType) and isinstance(value, dict):
        for key, item in value.items():
            found = unrepresentable(item, dtype.valueType, f"{path}.{key}")
            if found:
                return found
    return None


def exactness_schema(dtype: T.StructType) -> T.StructType:
    """Only the fields whose values Spark can misread (bigint, timestamp, and what holds them).

    ``unrepresentable`` walks this pruned schema, so checking an event costs little.
    """
    return T.StructType([f for f in (_pruned(f) for f in dtype.fields) if f is not None])


def _pruned(f: T.StructField) -> T.StructField | None:
    dtype = f.dataType
    if isinstance(dtype, T.LongType | T.TimestampType):
        return f
    if isinstance(dtype, T.StructType):
        inner = exactness_schema(dtype)
        return T.StructField(f.name, inner) if inner.fields else None
    if isinstance(dtype, T.ArrayType | T.MapType):
        element = dtype.elementType if isinstance(dtype, T.ArrayType) else dtype.valueType
        probe = _pruned(T.StructField("_", element))
        if probe is None:
            return None
        if isinstance(dtype, T.ArrayType):
            return T.StructField(f.name, T.ArrayType(probe.dataType))
        return T.StructField(f.name, T.MapType(T.StringType(), probe.dataType))
    return None


# -- does a typed value hold only what its own contract allows? --------------------------


def satisfies(value: Column, spec: Mapping[str, Any], dtype: T.DataType) -> Column:
    """True where ``value`` (a typed column of type ``dtype``) is null or holds what the
    contract property ``spec`` allows: its enum or const, bounds, lengths and pattern, and in
    nested objects only the fields ``spec`` declares (each valid in turn). The column's type
    already says which JSON type it held; null stands for absent, so ``required`` is not
    asked. ``afl verify lake`` holds every silver row's typed columns to this."""
    checks: list[Column] = []
    if spec.get("const") is not None:
        checks.append(value == F.lit(spec["const"]))
    if "enum" in spec:
        allowed = [v for v in spec["enum"] if v is not None]
        checks.append(value.isin(*allowed) if allowed else F.lit(False))
    if isinstance(dtype, T.StringType):
        if "minLength" in spec:
            checks.append(F.length(value) >= F.lit(spec["minLength"]))
        if "maxLength" in spec:
            checks.append(F.length(value) <= F.lit(spec["maxLength"]))
        if "pattern" in spec:
            checks.append(value.rlike(spec["pattern"]))
    if isinstance(dtype, T.LongType | T.DoubleType):
        for keyword, test in (
            ("minimum", value.__ge__),
            ("maximum", value.__le__),
            ("exclusiveMinimum", value.__gt__),
            ("exclusiveMaximum", value.__lt__),
        ):
            bound = spec.get(keyword)
            if isinstance(bound, int | float) and not isinstance(bound, bool):
                checks.append(test(F.lit(bound)))
    if isinstance(dtype, T.StructType):
        declared = spec.get("properties", {})
        for f in dtype.fields:
            inner = declared.get(f.name)
            checks.append(
                value[f.name].isNull()
                if inner is None
                else satisfies(value[f.name], inner, f.dataType)
            )
    if isinstance(dtype, T.ArrayType):
        if "minItems" in spec:
            checks.append(F.size(value) >= F.lit(spec["minItems"]))
        if "maxItems" in spec:
            checks.append(F.size(value) <= F.lit(spec["maxItems"]))
        items = spec.get("items")
        if isinstance(items, Mapping):
            element = dtype.elementType
            checks.append(F.forall(value, lambda item: satisfies(item, items, element)))
    if isinstance(dtype, T.MapType) and isinstance(spec.get("additionalProperties"), Mapping):
        extra, item_type = spec["additionalProperties"], dtype.valueType
        checks.append(F.forall(F.map_values(value), lambda item: satisfies(item, extra, item_type)))
    if not checks:
        return F.lit(True)
    every = reduce(lambda a, b: a & b, checks)
    return value.isNull() | F.coalesce(every, F.lit(False))
