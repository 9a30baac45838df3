"""How two versions of an evaluator disagree, per day: units whose label changed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.errors import AflError
from pipelines.settings import Settings
from pipelines.spark.io import delta_replace
from pipelines.spark.tables import EVALUATOR_COMPARISONS, EVALUATOR_SCORES, ensure_table


@dataclass
class Comparison:
    day: date
    evaluator: str
    from_version: int
    to_version: int
    units_compared: int
    changed: int
    transitions: dict[str, int] = field(default_factory=dict)  # "mixed -> unhelpful": n
    examples: list[dict[str, Any]] = field(default_factory=list)


def compare_versions(
    spark: SparkSession,
    settings: Settings,
    evaluator: str,
    from_version: int,
    to_version: int,
    day: date,
    examples: int = 10,
) -> Comparison:
    path = EVALUATOR_SCORES.path(settings)
    if not DeltaTable.isDeltaTable(spark, path):
        raise AflError("no evaluator scores yet: run `afl evaluate` first")
    scores = (
        spark.read.format("delta")
        .load(path)
        .where((F.col("event_date") == day) & (F.col("evaluator") == evaluator))
    )

    def side(version: int, prefix: str) -> DataFrame:
        return scores.where(F.col("evaluator_version") == version).select(
            "unit_id",
            F.col("label").alias(f"{prefix}_label"),
            F.col("score").alias(f"{prefix}_score"),
            F.col("explanation").alias(f"{prefix}_explanation"),
        )

    joined = side(from_version, "a").join(side(to_version, "b"), "unit_id").persist()
    try:
        changed = joined.where(~F.col("a_label").eqNullSafe(F.col("b_label")))
        transitions = {
            f"{r['a_label']} -> {r['b_label']}": r["count"]
            for r in changed.groupBy("a_label", "b_label").count().collect()
        }
        shown = [r.asDict() for r in changed.orderBy("unit_id").limit(examples).collect()]
        result = Comparison(
            day,
            evaluator,
            from_version,
            to_version,
            joined.count(),
            sum(transitions.values()),
            transitions,
            shown,
        )
    finally:
        joined.unpersist()
    _store(spark, settings, result)
    return result


def _store(spark: SparkSession, settings: Settings, c: Comparison) -> None:
    frame = spark.createDataFrame(
        [
            (
                c.day,
                c.evaluator,
                c.from_version,
                c.to_version,
                c.units_compared,
                c.changed,
                json.dumps(c.transitions),
                json.dumps(c.examples, default=str),
            )
        ],
        "event_date date, evaluator string, from_version int, to_version int, "
        "units_compared bigint, changed bigint, transitions string, examples string",
    )
    path = ensure_table(spark, settings, EVALUATOR_COMPARISONS, schema=frame.schema)
    where = (
        f"event_date = '{c.day}' AND evaluator = '{c.evaluator}' "
        f"AND from_version = {c.from_version} AND to_version = {c.to_version}"
    )
    delta_replace(frame, path, where)
