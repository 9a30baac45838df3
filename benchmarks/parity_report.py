"""Parity report for a 1,000,000-row day, beside a bare join-and-count in the same run.

    .venv/bin/python -m benchmarks.parity_report --rows 1000000

Builds one day of legacy export and the matching stream tables (silver.feedback and its
restricted companion, as the mirror and stream write them) straight in Delta, with 0.1% of
rows changed on the stream side, then times:

- baseline: full outer join on the key + count of rows where any compared column differs
  (no rules, no root causes, no report)
- parity: `run_parity` — rules per column, root causes, examples, aggregates, freshness,
  ops.parity_results, cutover replay, HTML report with three charts and the Markdown summary
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pipelines.parity.config import load_parity_config
from pipelines.parity.run import run_parity
from pipelines.settings import Settings
from pipelines.spark.session import get_spark
from pipelines.spark.tables import (
    LEGACY_FEEDBACK_EXPORT,
    ensure_table,
    silver_restricted_spec,
    silver_spec,
)
from pipelines.transforms.legacy import feedback_export, legacy_key

DAY = date(2026, 11, 20)


def build(spark: SparkSession, settings: Settings, rows: int) -> None:
    start = datetime(2026, 11, 20)
    app = spark.range(1, rows + 1).select(
        F.col("id"),
        F.concat(F.lit("tenant-"), (F.col("id") % 4).cast("string")).alias("tenant_id"),
        F.concat(F.lit("user-"), (F.col("id") % 50000).cast("string")).alias("user_id"),
        F.concat(F.lit("ses-"), (F.col("id") % 200000).cast("string")).alias("session_id"),
        F.concat(F.lit("agent-"), (F.col("id") % 4).cast("string")).alias("agent_name"),
        F.when(F.col("id") % 3 == 0, (F.col("id") % 5 + 1)).cast("long").alias("rating"),
        F.when(F.col("id") % 3 != 0, F.when(F.col("id") % 7 == 0, "down").otherwise("up")).alias(
            "thumbs"
        ),
        F.when(F.col("id") % 10 == 0, F.lit("that fixed it, thanks")).alias("comment"),
        (F.lit(start) + F.make_interval(secs=(F.col("id") % 86400).cast("int"))).alias(
            "created_at"
        ),
        (F.lit(start) + F.make_interval(secs=(F.col("id") % 86400).cast("int"))).alias(
            "updated_at"
        ),
        F.lit(None).cast("timestamp").alias("deleted_at"),
        F.lit(1).cast("long").alias("row_version"),
    )
    export = feedback_export(app, DAY, datetime(2026, 11, 21, 1, 0))
    export.write.format("delta").mode("overwrite").save(
        ensure_table(spark, settings, LEGACY_FEEDBACK_EXPORT)
    )
    changed = (F.col("id") % 1000) == 0  # 0.1% of rows differ on the stream side
    silver = app.select(
        F.expr("uuid()").alias("event_id"),
        F.lit("legacy_mirror").alias("source"),
        F.col("id").cast("string").alias("legacy_feedback_id"),
        F.col("row_version").alias("legacy_row_version"),
        F.lit(False).alias("deleted"),
        "tenant_id",
        "session_id",
        "agent_name",
        F.when(changed & F.col("rating").isNotNull(), 9 - F.col("rating"))
        .otherwise(F.col("rating"))
        .alias("rating"),
        "thumbs",
        F.col("created_at").alias("occurred_at"),
        F.col("updated_at").alias("legacy_updated_at"),
        F.to_date("created_at").alias("event_date"),
        (F.col("updated_at") + F.expr("INTERVAL 3 SECONDS")).alias("ingested_at"),
        F.col("id").alias("kafka_offset"),
        "user_id",
        "comment",
    ).persist()
    silver.drop("user_id", "comment").write.format("delta").partitionBy("event_date").save(
        silver_spec("feedback").path(settings)
    )
    restricted = silver_restricted_spec("feedback")
    assert restricted is not None
    silver.select("event_id", "event_date", "user_id", "comment").write.format("delta").partitionBy(
        "event_date"
    ).save(restricted.path(settings))
    silver.unpersist()


def baseline(spark: SparkSession, settings: Settings) -> tuple[float, int]:
    started = time.perf_counter()
    legacy = spark.read.format("delta").load(LEGACY_FEEDBACK_EXPORT.path(settings))
    stream = (
        spark.read.format("delta")
        .load(silver_spec("feedback").path(settings))
        .select(
            legacy_key(F.col("legacy_feedback_id").cast("long")).alias("feedback_id"),
            F.col("rating").cast("int").alias("s_rating"),
        )
    )
    differing = (
        legacy.join(stream, "feedback_id", "full_outer")
        .where(~F.col("rating").eqNullSafe(F.col("s_rating")))
        .count()
    )
    return time.perf_counter() - started, differing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    root = Path("/tmp/afl-bench-parity") / uuid.uuid4().hex[:8]
    settings = Settings.from_env().with_overrides(
        lake_root=str(root / "lake"), reports_dir=str(root / "reports")
    )
    spark = get_spark(settings, app_name="afl-bench-parity")
    started = time.perf_counter()
    build(spark, settings, args.rows)
    print(
        f"built {args.rows:,} legacy rows and stream rows in {time.perf_counter() - started:.1f}s"
    )
    base_s, differing = baseline(spark, settings)
    rate = args.rows / base_s
    print(f"baseline join+count: {base_s:.1f}s ({rate:,.0f} rows/s), {differing:,} differ")
    started = time.perf_counter()
    report = run_parity(spark, settings, DAY, load_parity_config())
    parity_s = time.perf_counter() - started
    print(
        f"parity report: {parity_s:.1f}s ({args.rows / parity_s:,.0f} rows/s); verdict "
        f"{report.verdict}; {report.counts}; report {report.report_html}"
    )
    print(f"generated at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
