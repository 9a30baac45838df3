"""One row per event_id: the first copy lands, later copies are counted or kept as evidence.

First wins, by Kafka coordinates within a batch and by arrival across batches. A later copy
with the same content is a harmless duplicate (a retry); one whose content differs is a
``conflicting_duplicate``: it never replaces what landed, and quarantine keeps it with the
coordinates of the copy that won and the fields that differ.

Pure DataFrame -> DataFrame functions; the silver writer supplies the table rows to look
in and the original records' values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.functions import pandas_udf

COORDS = ("kafka_topic", "kafka_partition", "kafka_offset")
UNREADABLE = "<unreadable>"


def coordinates() -> Column:
    """The record's Kafka coordinates as one comparable struct (first = smallest)."""
    return F.struct(*[F.col(c) for c in COORDS])


def key_hash(keys: Sequence[str] = ("event_id",)) -> Column:
    """A 64-bit hash of the dedup key, stored beside it where a lookup scans many rows."""
    return F.xxhash64(*[F.col(k) for k in keys])


def candidates(
    table_rows: DataFrame,
    batch: DataFrame,
    keys: Sequence[str] = ("event_id",),
    hashed: str | None = None,
) -> DataFrame:
    """The rows of ``table_rows`` (``*keys`` and Kafka coordinates) that share a key with a
    row of ``batch``: the earlier copies ``decide`` weighs. The batch side is broadcast:
    the batch is small, what it is looked up in is not.

    ``hashed``: a column both sides hold with ``key_hash(keys)``. Rows are matched on it
    first (a long per row instead of the key's strings: the scan of a large lookup gets
    several times cheaper), then on the keys themselves, so a collision changes nothing.
    """
    if hashed is not None:
        table_rows = table_rows.join(F.broadcast(batch.select(hashed)), hashed, "left_semi")
    ids = batch.select(*keys)
    return table_rows.select(*keys, *COORDS).join(F.broadcast(ids), list(keys), "left_semi")


def decide(
    rows: DataFrame,
    earlier: DataFrame,
    eligible: Column | None = None,
    keys: Sequence[str] = ("event_id",),
) -> DataFrame:
    """Adds ``_original``: null on the copy that lands, else the coordinates of the one that won.

    ``earlier``: copies already landed (``candidates``' rows); one of them wins over every
    copy in this batch, else the batch's first copy (smallest coordinates) wins. Only
    ``eligible`` rows (default: all) take part; the others get a null ``_original``. A
    landed copy with a batch row's own coordinates is that very record, landed by an
    earlier attempt of the same batch: the row is its own original, and lands again (the
    writer then finds it already appended). One shuffle, of the batch and its candidates.
    """
    competing = F.lit(True) if eligible is None else eligible
    batch = rows.withColumns({"_competing": competing, "_batch": F.lit(True)})
    landed = earlier.select(*keys, *COORDS).withColumns(
        {"_competing": F.lit(True), "_batch": F.lit(False)}
    )
    both = batch.unionByName(landed, allowMissingColumns=True)
    winner = F.min(F.when(F.col("_competing"), F.struct("_batch", *COORDS))).over(
        Window.partitionBy(*keys)
    )
    first = F.struct(*[F.col(f"_winner.{c}").alias(c) for c in COORDS])
    return (
        both.withColumn("_winner", winner)
        .where(F.col("_batch"))
        .withColumn("_original", F.when(F.col("_competing") & (first != coordinates()), first))
        .drop("_competing", "_batch", "_winner")
    )


@pandas_udf(T.ArrayType(T.StringType()))  # type: ignore[call-overload,untyped-decorator]  # no pandas stubs
def differing_fields(values: pd.Series, originals: pd.Series) -> pd.Series:
    """The fields (``occurred_at``, ``payload.rating``) in which two copies of an event differ.

    Empty when they carry the same content, whatever their bytes (key order, spacing).
    Never raises: a copy that cannot be read compares as ``<unreadable>``.
    """
    return pd.Series([content_differences(a, b) for a, b in zip(values, originals, strict=True)])


def content_differences(value: bytes | None, original: bytes | None) -> list[str]:
    """The fields in which two raw copies of an event differ (what ``differing_fields`` runs)."""
    if value == original:
        return []
    try:
        a, b = orjson.loads(value or b"null"), orjson.loads(original or b"null")
    except orjson.JSONDecodeError:
        return [UNREADABLE]
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return [] if _same(a, b) else ["$"]
    fields = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key), b.get(key)
        if key == "payload" and isinstance(left, dict) and isinstance(right, dict):
            fields += [
                f"payload.{k}"
                for k in sorted(set(left) | set(right))
                if not _same(left.get(k), right.get(k))
            ]
        elif not _same(left, right):
            fields.append(key)
    return fields


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values: 1 and 1.0 and true are three different things."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if x.keys() != y.keys():
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


def conflicting(duplicates: DataFrame, originals: DataFrame) -> DataFrame:
    """The duplicates whose content differs from the copy that landed, as rejected records.

    ``duplicates``: classified records with ``_original``; ``originals``: the landed copies'
    ``kafka_topic, kafka_partition, kafka_offset, value``. Adds ``_duplicate_of``,
    ``_differing`` and a ``rejection`` that quarantine_rows understands.
    """
    landed = originals.select(
        coordinates().alias("_original"), F.col("value").alias("_original_value")
    )
    paired = duplicates.join(F.broadcast(landed), "_original", "left")
    # An original that cannot be found (it should always be) compares as unreadable.
    diff = F.when(F.col("_original_value").isNull(), F.array(F.lit(UNREADABLE))).otherwise(
        differing_fields(F.col("value"), F.col("_original_value"))
    )
    where = F.format_string(
        "%s[%d]@%d",
        F.col("_original.kafka_topic"),
        F.col("_original.kafka_partition"),
        F.col("_original.kafka_offset"),
    )
    return (
        paired.withColumn("_differing", diff)
        .where(F.size("_differing") > 0)
        .withColumn("_duplicate_of", F.col("_original"))
        .withColumn(
            "rejection",
            F.struct(
                F.lit("conflicting_duplicate").alias("kind"),
                F.col("_differing")[0].alias("field"),
                F.concat(
                    F.lit("event_id already landed from "),
                    where,
                    F.lit(" with different content; differs in "),
                    F.concat_ws(", ", "_differing"),
                ).alias("message"),
                F.lit("dedupe").alias("stage"),
            ),
        )
        .drop("_original_value")
    )
