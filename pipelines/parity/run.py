"""One day's parity: compare, judge, record, advance the cutover, write the report.

afl parity --date 2026-11-20
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from delta.tables import DeltaTable
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.contracts.registry import contract_set
from pipelines.errors import AflError
from pipelines.parity.compare import (
    compare_day,
    rating_histogram,
    schema_differences,
    stream_feedback_state,
    thumbs_down_rate,
)
from pipelines.parity.config import ParityConfig, load_parity_config
from pipelines.parity.cutover import CutoverDay, replay_cutover
from pipelines.parity.model import DIFFERENCES, VERDICT_STATUS, ParityReport
from pipelines.parity.report import write_reports
from pipelines.parity.schemas import CUTOVER_SCHEMA, PARITY_RESULTS_SCHEMA
from pipelines.settings import Settings
from pipelines.spark.io import delta_replace
from pipelines.spark.tables import (
    CUTOVER_STATE,
    LEGACY_FEEDBACK_EXPORT,
    PARITY_RESULTS,
    ensure_table,
    silver_restricted_spec,
    silver_spec,
)


def judge(report: ParityReport, config: ParityConfig) -> tuple[str, str]:
    """The day's verdict and why, in words."""
    legacy = max(report.legacy_rows, 1)
    missing = report.counts.get("missing_in_stream", 0) + report.counts.get("missing_in_legacy", 0)
    mismatched = report.counts.get("value_mismatch", 0)
    late = report.counts.get("late", 0)
    late_note = (
        f" {late} row(s) changed inside the {config.lag_window_minutes:g}-minute lag window are "
        "reported as late, not as differences."
        if late
        else ""
    )
    if report.schema_differences:
        return "red", (
            "RED: the legacy export's schema differs from what parity expects ("
            + "; ".join(report.schema_differences)
            + ")."
            + late_note
        )
    if missing == 0 and mismatched == 0:
        return "green", (
            f"GREEN: {report.legacy_rows:,} legacy rows and {report.stream_rows:,} stream rows "
            "agree on every compared column." + late_note
        )
    missing_rate, mismatch_rate = missing / legacy, mismatched / legacy
    parts = []
    if report.counts.get("missing_in_stream"):
        parts.append(f"{report.counts['missing_in_stream']} key(s) missing in the stream")
    if report.counts.get("missing_in_legacy"):
        parts.append(f"{report.counts['missing_in_legacy']} key(s) missing in the legacy export")
    if mismatched:
        columns = ", ".join(f"{c} ({n})" for c, n in report.mismatches_by_column.items() if n)
        parts.append(f"{mismatched} row(s) with different values: {columns}")
    within = (
        missing_rate <= config.yellow_max_missing_rate
        and mismatch_rate <= config.yellow_max_mismatch_rate
    )
    verdict = "yellow" if within else "red"
    limits = (
        f"missing {missing_rate:.2%} (yellow up to {config.yellow_max_missing_rate:.2%}), "
        f"mismatched {mismatch_rate:.2%} (yellow up to {config.yellow_max_mismatch_rate:.2%})"
    )
    return verdict, f"{verdict.upper()}: " + "; ".join(parts) + f". Rates: {limits}." + late_note


def stream_watermark(feedback: DataFrame) -> datetime | None:
    """The newest app change the stream has seen: how far mirror + stream have got."""
    row = (
        feedback.where(F.col("source") == "legacy_mirror")
        .agg(F.max("legacy_updated_at").alias("w"))
        .first()
    )
    return row["w"] if row else None


def compute_parity(
    spark: SparkSession, settings: Settings, day: date, config: ParityConfig
) -> ParityReport:
    export_path = LEGACY_FEEDBACK_EXPORT.path(settings)
    feedback_path = silver_spec("feedback").path(settings)
    restricted_spec = silver_restricted_spec("feedback", contract_set())
    if not DeltaTable.isDeltaTable(spark, export_path):
        raise AflError(f"no legacy export yet: run `afl legacy etl --date {day}` first")
    legacy = spark.read.format("delta").load(export_path).where(F.col("export_date") == day)
    if not DeltaTable.isDeltaTable(spark, feedback_path) or restricted_spec is None:
        raise AflError("silver.feedback does not exist yet: run the mirror and the stream first")
    feedback = spark.read.format("delta").load(feedback_path)
    restricted = spark.read.format("delta").load(restricted_spec.path(settings))
    stream = stream_feedback_state(
        feedback.where(F.col("event_date") == day), restricted.where(F.col("event_date") == day)
    ).persist(StorageLevel.MEMORY_AND_DISK)
    legacy = legacy.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        watermark = stream_watermark(feedback)
        compared = compare_day(legacy, stream, config, watermark).persist()
        try:
            return _assemble(ComparedDay(day, legacy, stream, compared, watermark), config)
        finally:
            compared.unpersist()
    finally:
        stream.unpersist()
        legacy.unpersist()


@dataclass(frozen=True)
class ComparedDay:
    """One day of both sides and their key-by-key comparison: what a report is built from."""

    day: date
    legacy: DataFrame
    stream: DataFrame
    compared: DataFrame
    watermark: datetime | None


def _assemble(frames: ComparedDay, config: ParityConfig) -> ParityReport:
    legacy, stream, compared = frames.legacy, frames.stream, frames.compared
    counts = {r["status"]: r["count"] for r in compared.groupBy("status").count().collect()}
    by_column = {
        r["column"]: r["count"]
        for r in compared.where(F.col("status") == "value_mismatch")
        .select(F.explode("mismatched_columns").alias("column"))
        .groupBy("column")
        .count()
        .collect()
    }
    legacy_lag = legacy.select(
        ((F.col("exported_at").cast("double") - F.col("updated_at").cast("double")) / 3600).alias(
            "hours"
        )
    )
    stream_lag = stream.where(F.col("updated_at").isNotNull()).select(
        (F.col("ingested_at").cast("double") - F.col("updated_at").cast("double")).alias("seconds")
    )
    return ParityReport(
        day=frames.day,
        run_id=str(uuid.uuid4()),
        computed_at=datetime.now(UTC).replace(tzinfo=None),
        legacy_rows=legacy.count(),
        stream_rows=stream.count(),
        counts={s: counts.get(s, 0) for s in ("match", *DIFFERENCES, "late")},
        mismatches_by_column={r.column: by_column.get(r.column, 0) for r in config.columns},
        examples=_examples(compared, config),
        schema_differences=schema_differences(legacy, config),
        rating_legacy=rating_histogram(legacy),
        rating_stream=rating_histogram(stream),
        thumbs_down=_thumbs_down(legacy, stream),
        freshness=_freshness(legacy_lag, stream_lag),
        stream_lag_sample=[r[0] for r in stream_lag.limit(5000).collect()],
        legacy_lag_sample=[r[0] for r in legacy_lag.limit(5000).collect()],
        watermark=frames.watermark,
    )


def _examples(compared: DataFrame, config: ParityConfig) -> dict[str, list[dict[str, Any]]]:
    """The first few differences of each kind, by key, as a person reads them."""
    sensitive = {k.split(".", 1)[1] for k in contract_set().latest("feedback").field_classes}
    examples: dict[str, list[dict[str, Any]]] = {}
    for status in (*DIFFERENCES, "late"):
        rows = (
            compared.where(F.col("status") == status)
            .orderBy("key")
            .limit(config.examples)
            .collect()
        )
        examples[status] = [_example(r, config, sensitive) for r in rows]
    return examples


def _freshness(legacy_lag: DataFrame, stream_lag: DataFrame) -> dict[str, float | None]:
    """p50, p95 and max of each side's delay from an app change to the table."""
    fresh: dict[str, float | None] = {}
    for name, frame, column in (
        ("legacy_hours", legacy_lag, "hours"),
        ("stream_seconds", stream_lag, "seconds"),
    ):
        stats = frame.agg(
            F.percentile_approx(column, 0.5, 1000).alias("p50"),
            F.percentile_approx(column, 0.95, 1000).alias("p95"),
            F.max(column).alias("max"),
        ).first()
        for key in ("p50", "p95", "max"):
            fresh[f"{name}_{key}"] = float(stats[key]) if stats and stats[key] is not None else None
    return fresh


def _thumbs_down(legacy: DataFrame, stream: DataFrame) -> list[dict[str, Any]]:
    """Per agent, the share of thumbs that are down on each side."""
    legacy_down = {r["agent_name"]: r for r in thumbs_down_rate(legacy).collect()}
    stream_down = {r["agent_name"]: r for r in thumbs_down_rate(stream).collect()}
    thumbs = []
    for agent in sorted(set(legacy_down) | set(stream_down)):
        lr = legacy_down.get(agent)
        sr = stream_down.get(agent)
        thumbs.append({
            "agent": agent,
            "legacy_rate": lr["down_rate"] if lr else None,
            "stream_rate": sr["down_rate"] if sr else None,
            "legacy_thumbs": lr["thumbs"] if lr else 0,
            "stream_thumbs": sr["thumbs"] if sr else 0,
        })  # fmt: skip
    return thumbs


def _example(row: Any, config: ParityConfig, sensitive: set[str]) -> dict[str, Any]:
    """A difference as a person reads it; user text and PII only as length and hash prefix."""
    shown: dict[str, Any] = {"key": row["key"], "columns": list(row["mismatched_columns"])}
    for rule in config.columns:
        for side in ("l", "s"):
            name = f"{side}_{rule.column}"
            if name in row:
                value = row[name]
                if rule.column in sensitive and value is not None:
                    digest = hashlib.sha256(str(value).encode()).hexdigest()[:8]
                    value = f"<{len(str(value))} chars, sha256 {digest}>"
                shown[f"{'legacy' if side == 'l' else 'stream'}.{rule.column}"] = (
                    value.isoformat(sep=" ") if isinstance(value, datetime) else value
                )
    return shown


def result_rows(report: ParityReport) -> list[tuple[object, ...]]:
    """ops.parity_results: one row per check for the day."""
    v = report.verdict
    rows = [
        ("row_counts", "info", float(report.legacy_rows),
         {"legacy": report.legacy_rows, "stream": report.stream_rows}),
        *[
            (status, "pass" if report.counts[status] == 0 else "fail",
             float(report.counts[status]), {"examples": report.examples[status]})
            for status in ("missing_in_stream", "missing_in_legacy")
        ],
        ("value_mismatch", "pass" if report.counts["value_mismatch"] == 0 else "fail",
         float(report.counts["value_mismatch"]),
         {"by_column": report.mismatches_by_column, "examples": report.examples["value_mismatch"]}),
        ("late", "info", float(report.counts["late"]), {"examples": report.examples["late"]}),
        ("schema", "pass" if not report.schema_differences else "fail",
         float(len(report.schema_differences)), {"differences": report.schema_differences}),
        ("rating_histogram", "info",
         float(sum(abs(report.rating_legacy[k] - report.rating_stream[k]) for k in range(1, 6))),
         {"legacy": report.rating_legacy, "stream": report.rating_stream}),
        ("thumbs_down_rate", "info", None, {"by_agent": report.thumbs_down}),
        ("freshness", "info", report.freshness.get("stream_seconds_p95"), report.freshness),
        ("verdict", VERDICT_STATUS[v], None,
         {"explanation": report.explanation,
          "watermark": report.watermark.isoformat() if report.watermark else None}),
    ]  # fmt: skip
    return [
        (report.day, check, status, observed, json.dumps(details, default=str), v,
         report.run_id, report.computed_at)
        for check, status, observed, details in rows
    ]  # fmt: skip


def run_parity(
    spark: SparkSession,
    settings: Settings,
    day: date,
    config: ParityConfig | None = None,
) -> ParityReport:
    """Compare the day, record its results, replay the cutover, write the HTML/Markdown report."""
    config = config or load_parity_config(settings.parity_config or None)
    report = compute_parity(spark, settings, day, config)
    report.verdict, report.explanation = judge(report, config)
    results = spark.createDataFrame(result_rows(report), PARITY_RESULTS_SCHEMA)
    delta_replace(
        results,
        ensure_table(spark, settings, PARITY_RESULTS),
        f"parity_date = '{day.isoformat()}'",
    )
    report.cutover = advance_cutover(spark, settings, config)
    report.report_html, report.report_markdown = write_reports(report, config, settings)
    return report


def advance_cutover(
    spark: SparkSession, settings: Settings, config: ParityConfig
) -> list[CutoverDay]:
    """Replay the state machine over every day's verdict; store the whole history."""
    verdicts = [
        (r["parity_date"], r["verdict"])
        for r in spark.read.format("delta").load(PARITY_RESULTS.path(settings))
        .where(F.col("check") == "verdict").select("parity_date", "verdict").collect()
    ]  # fmt: skip
    history = replay_cutover(
        verdicts, config.promote_after_green_days, config.retire_after_green_days
    )
    frame = spark.createDataFrame([d.as_row() for d in history], CUTOVER_SCHEMA)
    frame.write.format("delta").mode("overwrite").save(ensure_table(spark, settings, CUTOVER_STATE))
    return history
