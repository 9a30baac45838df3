"""Great Expectations over one day of one table, on Spark.

Suites live in ``expectations/<database>.<table>.json`` (GX 1.x's format, reviewed like
code). Each names its partition column in ``meta.afl``. The per-day volume expectation takes
its band from the trailing week at run time (``$PARAMETER``s). Expectations with severity
``critical`` (GX's default) decide whether a day passes — that is what blocks gold; warnings
are reported and stored but never block. Every outcome is appended to ops.quality_results,
and GX's Data Docs are rebuilt under the settings' home.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import great_expectations as gx
from delta.tables import DeltaTable
from great_expectations.checkpoint.actions import UpdateDataDocsAction
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.errors import AflError
from pipelines.quality.schemas import QUALITY_RESULTS_SCHEMA
from pipelines.settings import Settings, checkout_root
from pipelines.spark.io import delta_append
from pipelines.spark.tables import QUALITY_RESULTS, ensure_table, spec_for

TRAILING_DAYS = 7
BAND = (0.25, 4.0)  # of the trailing mean
SAMPLE = 5


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed: Any
    unexpected_count: int | None
    sample: list[Any]

    def describe(self) -> str:
        where = f" on {self.column}" if self.column else ""
        text = f"{'ok  ' if self.success else 'FAIL'} [{self.severity}] {self.expectation}{where}"
        if not self.success:
            if self.unexpected_count is not None:
                text += f": {self.unexpected_count} unexpected, e.g. {self.sample}"
            elif self.observed is not None:
                text += f": observed {self.observed}"
        return text


@dataclass
class QualityReport:
    table: str
    day: date
    rows: int
    outcomes: list[ExpectationOutcome]
    docs_index: str
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def failures(self) -> list[ExpectationOutcome]:
        """Failed critical expectations: these block downstream gold."""
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity != "critical"]

    @property
    def passed(self) -> bool:
        return not self.failures


def expectations_dir(settings: Settings) -> Path:
    configured = settings.expectations_dir
    if configured:
        return Path(configured)
    root = checkout_root()
    if root is None:
        raise AflError("set AFL_EXPECTATIONS_DIR to the folder holding the expectation suites")
    return root / "expectations"


def load_suite(settings: Settings, table: str) -> dict[str, Any]:
    path = expectations_dir(settings) / f"{table}.json"
    if not path.is_file():
        raise AflError(f"no expectation suite for {table} ({path})")
    suite: dict[str, Any] = json.loads(path.read_text())
    return suite


@cache
def _context(project_root: str) -> Any:
    return gx.get_context(mode="file", project_root_dir=project_root)


def volume_band(
    spark: SparkSession, path: str, partition_column: str, day: date
) -> tuple[int, int]:
    """Rows a normal day has: 0.25x..4x of the trailing week's mean (wide open without history)."""
    since = day - timedelta(days=TRAILING_DAYS)
    counts = [
        r["count"]
        for r in spark.read.format("delta")
        .load(path)
        .where((F.col(partition_column) >= since) & (F.col(partition_column) < day))
        .groupBy(partition_column)
        .count()
        .collect()
    ]
    if not counts:
        return 0, 10**12
    mean = sum(counts) / len(counts)
    return math.floor(mean * BAND[0]), math.ceil(mean * BAND[1])


def validate_table_day(
    spark: SparkSession, settings: Settings, table: str, day: date, *, record: bool = True
) -> QualityReport:
    """Run the table's suite on one day's partition; store the outcomes; rebuild Data Docs."""
    spec = spec_for(table)
    suite_doc = load_suite(settings, table)
    partition_column = suite_doc["meta"]["afl"]["partition_column"]
    path = spec.path(settings)
    if not DeltaTable.isDeltaTable(spark, path):
        raise AflError(f"{table} does not exist yet at {path}")
    frame = spark.read.format("delta").load(path).where(F.col(partition_column) == day).persist()
    try:
        rows = frame.count()
        low, high = volume_band(spark, path, partition_column, day)
        outcomes, docs = _run_gx(settings, table, suite_doc, frame, low, high)
    finally:
        frame.unpersist()
    report = QualityReport(table, day, rows, outcomes, docs)
    if record:
        _record(spark, settings, report)
    return report


def _run_gx(
    settings: Settings,
    table: str,
    suite_doc: dict[str, Any],
    frame: DataFrame,
    low: int,
    high: int,
) -> tuple[list[ExpectationOutcome], str]:
    context = _context(str(Path(settings.home) / "gx"))
    source = context.data_sources.add_or_update_spark(name="lake")
    try:
        asset = source.get_asset(table)
    except LookupError:
        asset = source.add_dataframe_asset(name=table)
    try:
        batch = asset.get_batch_definition("partition")
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe("partition")
    suite = context.suites.add_or_update(
        gx.ExpectationSuite(
            name=suite_doc["name"],
            expectations=[_expectation(e) for e in suite_doc["expectations"]],
            meta=suite_doc.get("meta", {}),
        )
    )
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=table, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=table,
            validation_definitions=[validation],
            actions=[UpdateDataDocsAction(name="data_docs")],
        )
    )
    result = checkpoint.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters={"volume_min": low, "volume_max": high},
    )
    outcomes: list[ExpectationOutcome] = []
    for run in result.run_results.values():
        for r in run.results:
            config = r.expectation_config
            details = r.result or {}
            sample = details.get("partial_unexpected_list") or []
            outcomes.append(
                ExpectationOutcome(
                    expectation=config.type,
                    column=config.kwargs.get("column") or _pair(config.kwargs),
                    severity=str(getattr(config, "severity", None) or "critical")
                    .split(".")[-1]
                    .lower(),
                    success=bool(r.success),
                    observed=details.get("observed_value"),
                    unexpected_count=details.get("unexpected_count"),
                    sample=[_plain(v) for v in sample[:SAMPLE]],
                )
            )
    docs = (
        Path(settings.home)
        / "gx"
        / "gx"
        / "uncommitted"
        / "data_docs"
        / "local_site"
        / "index.html"
    )
    return outcomes, str(docs)


def _expectation(doc: dict[str, Any]) -> Any:
    """A suite file entry as a GX expectation object (type -> class, kwargs, severity)."""
    from great_expectations.expectations.registry import get_expectation_impl

    impl = get_expectation_impl(doc["type"])
    kwargs = dict(doc["kwargs"])
    if doc.get("severity"):
        kwargs["severity"] = doc["severity"]
    if doc.get("meta"):
        kwargs["meta"] = doc["meta"]
    return impl(**kwargs)


def _pair(kwargs: dict[str, Any]) -> str | None:
    if "column_A" in kwargs:
        return f"{kwargs['column_A']} > {kwargs['column_B']}"
    if "column_list" in kwargs:
        return ", ".join(kwargs["column_list"])
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.loads(json.dumps(value, default=str))
    return value


def _record(spark: SparkSession, settings: Settings, report: QualityReport) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (
            report.table,
            report.day,
            report.table,
            o.expectation,
            o.column,
            o.severity,
            o.success,
            None if o.observed is None else json.dumps(_plain(o.observed)),
            o.unexpected_count,
            json.dumps(o.sample),
            report.run_id,
            now,
        )
        for o in report.outcomes
    ]
    frame = spark.createDataFrame(rows, QUALITY_RESULTS_SCHEMA)
    delta_append(frame, ensure_table(spark, settings, QUALITY_RESULTS))
