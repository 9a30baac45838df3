"""Fitting a batch's typed rows to the silver table they go to (Auto Loader's vocabulary).

- ``addNewColumns`` (default): new optional fields become columns (mergeSchema on append).
- ``rescue``: the table keeps its schema; fields it lacks go to ``_rescued_data`` as JSON.
- ``failOnNewColumns``: the stream stops, naming the table and the columns.

Whatever the mode, a value whose type the table cannot safely widen to is split off as a
``schema_conflict`` (quarantined, naming the field and both types).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.errors import AflError


class SchemaEvolution(StrEnum):
    ADD_NEW_COLUMNS = "addNewColumns"
    RESCUE = "rescue"
    FAIL_ON_NEW_COLUMNS = "failOnNewColumns"

    @classmethod
    def parse(cls, value: str | SchemaEvolution) -> SchemaEvolution:
        try:
            return cls(value)
        except ValueError:
            modes = ", ".join(m.value for m in cls)
            raise AflError(f"schema evolution mode must be one of {modes}; got {value!r}") from None


class SchemaEvolutionError(AflError):
    """failOnNewColumns met columns the silver table does not have."""


def fit_to_table(
    rows: DataFrame,
    table_schema: T.StructType,
    table_name: str,
    mode: SchemaEvolution,
    hashed_fields: set[str],
) -> DataFrame:
    """Apply the evolution mode; adds ``_conflict`` (or adds to the rows' own): null, or why
    the table cannot take the row's values (a type it cannot safely widen to). Such a row's
    value is not cast.

    ``hashed_fields``: user text and PII columns, which the general table holds only hashed
    (as ``<field>_hash``), so their raw types never meet the table's.
    """
    table_types = {f.name: f.dataType for f in table_schema.fields}
    new_columns = [  # "_"-prefixed helper columns of the writer never reach a table
        c
        for c in rows.columns
        if c not in table_types and c not in hashed_fields and not _is_helper(c)
    ]
    new_hashes = [
        f"{name}_hash"
        for name in sorted(hashed_fields)
        if name in rows.columns and f"{name}_hash" not in table_types
    ]
    if (new_columns or new_hashes) and mode == SchemaEvolution.FAIL_ON_NEW_COLUMNS:
        raise SchemaEvolutionError(
            f"{table_name} has no column(s) {', '.join(sorted(new_columns + new_hashes))} "
            "(schema evolution mode failOnNewColumns); restart with addNewColumns or rescue"
        )
    if new_columns and mode == SchemaEvolution.RESCUE:
        # User text and PII are never rescued into the general table: their hashes become
        # columns even in rescue mode.
        rows = rescue_columns(rows, new_columns)
    conflicts = []
    casts = {}
    for f in rows.schema.fields:
        target = table_types.get(f.name)
        if target is None or target == f.dataType or f.name in hashed_fields:
            continue
        if safe_widening(f.dataType, target):
            casts[f.name] = F.col(f.name).cast(target)
        else:
            conflicts.append((f.name, f.dataType, target))
    reason = F.lit(None).cast("string")
    for name, given, target in reversed(conflicts):
        message = (
            f"payload.{name}: the contract gives {given.simpleString()}, "
            f"{table_name}.{name} is {target.simpleString()} (not a safe widening)"
        )
        reason = F.when(F.col(name).isNotNull(), F.lit(message)).otherwise(reason)
    if "_conflict" in rows.columns:  # a version that cannot share the batch's columns
        reason = F.coalesce(F.col("_conflict"), reason)
    rows = rows.withColumn("_conflict", reason)
    for name, _, target in conflicts:  # a conflicting value is never cast: it would fail
        casts[name] = F.when(F.col("_conflict").isNull(), F.col(name).cast(target))
    return rows.withColumns(casts) if casts else rows


def _is_helper(name: str) -> bool:
    return name.startswith("_") and name != "_rescued_data"


def safe_widening(given: T.DataType, target: T.DataType) -> bool:
    """Values of ``given`` fit ``target`` without loss (the table keeps its type)."""
    return (
        isinstance(given, T.IntegerType | T.LongType | T.ShortType | T.ByteType)
        and isinstance(target, T.LongType | T.DoubleType | T.DecimalType)
    ) or (isinstance(given, T.FloatType) and isinstance(target, T.DoubleType))


def rescue_columns(rows: DataFrame, columns: Sequence[str]) -> DataFrame:
    """Move columns the table lacks into _rescued_data (rescue mode: the schema stays)."""
    new_json = F.to_json(F.struct(*[F.col(c).alias(f"payload.{c}") for c in columns]))
    existing = F.col("_rescued_data")
    merged = (
        F.when(new_json == "{}", existing)
        .when(existing.isNull(), new_json)
        .otherwise(
            F.concat(
                F.expr("substring(_rescued_data, 1, length(_rescued_data) - 1)"),
                F.lit(","),
                F.substring(new_json, 2, 1 << 30),
            )
        )
    )
    return rows.withColumn("_rescued_data", merged).drop(*columns)
