"""Evaluator backfills over history, into gold.evaluator_scores.

    afl evaluate --evaluator helpfulness@2 --from 2026-11-01 --to 2026-11-07 [--as-of 12]

Deterministic evaluators: one day at a time, and a re-run *replaces* that day's scores for
that evaluator version (Delta replaceWhere), so counts never double. Model-based judges are
costly: a dry run counts units and estimates tokens without calling; sampling (a fraction,
or a cap per day, chosen by a stable hash of the unit id) bounds the work; calls are
rate-limited and retried; scores are written in small chunks, so a failed run that is run
again *resumes*: it skips units already scored by the same version and code hash.
Each score row records the Delta version of every silver table it read; ``as_of`` (a Delta
version or a timestamp) reads silver as it was then, to reproduce a past result.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.errors import AflError
from pipelines.evaluators.base import Evaluator
from pipelines.evaluators.judge import JudgeClient, JudgeEvaluator
from pipelines.evaluators.registry import get_evaluator
from pipelines.evaluators.schemas import UNIT_COLUMNS
from pipelines.governance.classification import RETENTION_DAYS
from pipelines.settings import Settings
from pipelines.spark.io import delta_append, delta_replace, delta_version
from pipelines.spark.tables import (
    EVALUATOR_SCORES,
    ensure_table,
    silver_restricted_spec,
    silver_spec,
)
from pipelines.transforms.silver import PIPELINE_VERSION

JUDGE_CHUNK = 5  # judge scores are persisted this often: what a resume can skip
Progress = Callable[[str], None]


@dataclass
class DayResult:
    day: date
    units: int = 0
    written: int = 0
    skipped_existing: int = 0
    judge_calls: int = 0
    estimated_tokens: int = 0
    silver_versions: dict[str, int] = field(default_factory=dict)


@dataclass
class BackfillResult:
    evaluator: str
    code_hash: str
    run_id: str
    dry_run: bool
    days: list[DayResult]

    @property
    def units(self) -> int:
        return sum(d.units for d in self.days)

    @property
    def written(self) -> int:
        return sum(d.written for d in self.days)

    @property
    def judge_calls(self) -> int:
        return sum(d.judge_calls for d in self.days)


def read_silver(
    spark: SparkSession,
    settings: Settings,
    event_type: str,
    day: date,
    as_of: str | None = None,
    restricted: bool = False,
) -> tuple[DataFrame, str, int]:
    """One day of a silver table, at its latest version or ``as_of``; (frame, name, version)."""
    spec = silver_restricted_spec(event_type) if restricted else silver_spec(event_type)
    if spec is None:
        raise AflError(f"{event_type} has no restricted table")
    path = spec.path(settings)
    if not DeltaTable.isDeltaTable(spark, path):
        raise AflError(f"{spec.qualified_name} does not exist yet")
    reader = spark.read.format("delta")
    if as_of is not None:
        option = "versionAsOf" if as_of.isdigit() else "timestampAsOf"
        reader = reader.option(option, as_of)
        version = int(as_of) if as_of.isdigit() else _version_at(spark, path, as_of)
    else:
        version = delta_version(spark, path)
    frame = reader.load(path).where(F.col("event_date") == day)
    return frame, spec.qualified_name, version


def _version_at(spark: SparkSession, path: str, moment: str) -> int:
    row = (
        DeltaTable.forPath(spark, path)
        .history()
        .where(F.col("timestamp") <= F.to_timestamp(F.lit(moment)))
        .agg(F.max("version"))
        .first()
    )
    if row is None or row[0] is None:
        raise AflError(f"{path} has no version as of {moment}")
    return int(row[0])


def _frames(
    spark: SparkSession, settings: Settings, evaluator: Evaluator, day: date, as_of: str | None
) -> tuple[dict[str, DataFrame], dict[str, int]]:
    frames: dict[str, DataFrame] = {}
    versions: dict[str, int] = {}
    for event_type in evaluator.reads:
        frame, name, version = read_silver(spark, settings, event_type, day, as_of)
        frames[event_type], versions[name] = frame, version
    for event_type in getattr(evaluator, "reads_restricted", ()):
        frame, name, version = read_silver(spark, settings, event_type, day, as_of, True)
        frames[f"{event_type}_restricted"], versions[name] = frame, version
    return frames, versions


@dataclass(frozen=True)
class ScoreRun:
    """What every day of one backfill shares: where its scores go and how they are labelled."""

    spark: SparkSession
    path: str  # gold.evaluator_scores
    evaluator: Evaluator
    code_hash: str
    run_id: str


@dataclass(frozen=True)
class JudgeLimits:
    """How much of a day a model-based evaluator judges, and how fast."""

    dry_run: bool = False  # estimate tokens, call nothing
    sample_fraction: float | None = None
    cap_per_day: int | None = None
    rate_per_second: float | None = None


def _with_lineage(
    units: DataFrame, run: ScoreRun, versions: Mapping[str, int], model: str | None
) -> DataFrame:
    evaluator = run.evaluator
    version_map = F.create_map(
        *[x for name, v in sorted(versions.items()) for x in (F.lit(name), F.lit(v).cast("long"))]
    )
    return units.select(
        "event_date",
        F.lit(evaluator.unit_type).alias("unit_type"),
        "unit_id",
        F.lit(evaluator.name).alias("evaluator"),
        F.lit(evaluator.version).cast("int").alias("evaluator_version"),
        "tenant_id",
        "agent_name",
        "agent_version",
        "session_id",
        "trace_id",
        F.col("score").cast("double").alias("score"),
        "label",
        "explanation",
        F.current_timestamp().alias("evaluated_at"),
        F.lit(run.code_hash).alias("code_hash"),
        F.lit(model).cast("string").alias("judge_model"),
        F.lit(run.run_id).alias("run_id"),
        version_map.alias("silver_versions"),
        F.lit("internal").alias("data_classification"),
        F.lit(False).alias("contains_pii"),
        F.to_timestamp(F.date_add("event_date", RETENTION_DAYS["internal"])).alias(
            "retention_until"
        ),
        F.lit("backfill").alias("source"),
        F.lit(PIPELINE_VERSION).alias("pipeline_version"),
    )


def _partition(evaluator: Evaluator, day: date) -> str:
    return (
        f"event_date = '{day.isoformat()}' AND evaluator = '{evaluator.name}' "
        f"AND evaluator_version = {evaluator.version}"
    )


def backfill(
    spark: SparkSession,
    settings: Settings,
    evaluator_key: str,
    start: date,
    end: date,
    *,
    as_of: str | None = None,
    dry_run: bool = False,
    sample_fraction: float | None = None,
    cap_per_day: int | None = None,
    rate_per_second: float | None = None,
    judge: JudgeClient | None = None,
    progress: Progress | None = None,
) -> BackfillResult:
    """Evaluate every day in [start, end] with one evaluator version."""
    if end < start:
        raise AflError(f"--to {end} is before --from {start}")
    evaluator = get_evaluator(evaluator_key)
    if evaluator.model_based:
        judge = judge or _judge_from_settings(settings, evaluator)
        evaluator = type(evaluator)({**evaluator.config, "model": judge.model})
    code_hash = evaluator.code_hash()
    run_id = str(uuid.uuid4())
    path = ensure_table(spark, settings, EVALUATOR_SCORES)
    run = ScoreRun(spark, path, evaluator, code_hash, run_id)
    limits = JudgeLimits(dry_run, sample_fraction, cap_per_day, rate_per_second)
    say = progress or (lambda _: None)
    days = []
    day = start
    while day <= end:
        frames, versions = _frames(spark, settings, evaluator, day, as_of)
        result = DayResult(day, silver_versions=versions)
        if isinstance(evaluator, JudgeEvaluator):
            assert judge is not None
            _judge_day(run, evaluator, judge, limits, frames, result)
        else:
            units = evaluator.evaluate(frames).persist()
            try:
                result.units = units.count()
                if not dry_run:
                    rows = _with_lineage(units, run, versions, None)
                    delta_replace(rows, path, _partition(evaluator, day))
                    result.written = result.units
            finally:
                units.unpersist()
        say(
            f"  {evaluator.key} {day}: {result.units:,} units, {result.written:,} written"
            + (f", {result.judge_calls} judge calls" if result.judge_calls else "")
            + (f", ~{result.estimated_tokens:,} tokens" if result.estimated_tokens else "")
        )
        days.append(result)
        day += timedelta(days=1)
    return BackfillResult(evaluator.key, code_hash, run_id, dry_run, days)


def _judge_from_settings(settings: Settings, evaluator: Evaluator) -> JudgeClient:
    if not settings.judge_url:
        raise AflError(
            f"{evaluator.key} is model-based: set AFL_JUDGE_URL (an OpenAI-compatible endpoint)"
        )
    return JudgeClient(settings.judge_url, settings.judge_model, api_key=settings.judge_api_key)


def _judge_day(
    run: ScoreRun,
    evaluator: JudgeEvaluator,
    judge: JudgeClient,
    limits: JudgeLimits,
    frames: Mapping[str, DataFrame],
    result: DayResult,
) -> None:
    """Judge the day's units not scored by this code yet, within the limits."""
    spark, day = run.spark, result.day
    sample_fraction, cap_per_day = limits.sample_fraction, limits.cap_per_day
    units = evaluator.units(frames).withColumn("_pick", F.xxhash64("unit_id") % 10_000)
    if sample_fraction is not None:
        units = units.where(F.abs(F.col("_pick")) < int(sample_fraction * 10_000))
    if cap_per_day is not None:
        units = units.orderBy(F.abs(F.col("_pick")), "unit_id").limit(cap_per_day)
    chosen = units.drop("_pick").collect()
    result.units = len(chosen)
    done = {
        r["unit_id"]
        for r in spark.read.format("delta")
        .load(run.path)
        .where(F.expr(_partition(evaluator, day)) & (F.col("code_hash") == run.code_hash))
        .select("unit_id")
        .collect()
    }
    todo = [u for u in chosen if u["unit_id"] not in done]
    result.skipped_existing = len(chosen) - len(todo)
    result.estimated_tokens = sum(
        len(u["prompt"]) // 4 + evaluator.expected_output_tokens for u in todo
    )
    if limits.dry_run:
        return
    pending: list[dict[str, Any]] = []
    spacing = 1.0 / limits.rate_per_second if limits.rate_per_second else 0.0
    last_call = 0.0
    for unit in todo:
        wait = last_call + spacing - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        last_call = time.monotonic()
        verdict = judge.judge(unit["prompt"])
        result.judge_calls += 1
        pending.append(
            {
                **unit.asDict(),
                "score": verdict.score,
                "label": verdict.label,
                "explanation": verdict.explanation,
            }
        )
        if len(pending) >= JUDGE_CHUNK:
            result.written += _append_scores(run, pending, result.silver_versions, judge.model)
            pending = []
    if pending:
        result.written += _append_scores(run, pending, result.silver_versions, judge.model)


def _append_scores(
    run: ScoreRun, rows: list[dict[str, Any]], versions: Mapping[str, int], model: str
) -> int:
    frame = run.spark.createDataFrame(
        [tuple(r[f.name] for f in UNIT_COLUMNS.fields) for r in rows], UNIT_COLUMNS
    )
    delta_append(_with_lineage(frame, run, versions, model), run.path)
    return len(rows)


def scores(spark: SparkSession, settings: Settings) -> DataFrame:
    return spark.read.format("delta").load(EVALUATOR_SCORES.path(settings))
