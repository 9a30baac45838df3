"""The nightly batch ETL as it runs today: one day of app rows into legacy.feedback_export.

    afl legacy etl --date 2026-11-20      (jobs/legacy_nightly_etl.py under spark-submit)

Re-running a day replaces that day's partition only (Delta replaceWhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from sqlalchemy import Engine, select

from pipelines.legacy.app_db import FEEDBACK, create_schema, engine_for
from pipelines.settings import Settings
from pipelines.spark.io import delta_replace
from pipelines.spark.tables import LEGACY_FEEDBACK_EXPORT, ensure_table
from pipelines.transforms.legacy import APP_ROW_SCHEMA, feedback_export


@dataclass(frozen=True)
class EtlResult:
    day: date
    rows: int
    path: str


def read_app_rows(
    spark: SparkSession, engine: Engine, created_from: datetime, created_to: datetime
) -> DataFrame:
    """App rows created in [from, to), as a Spark DataFrame (deleted rows included)."""
    query = (
        select(*[FEEDBACK.c[f.name] for f in APP_ROW_SCHEMA.fields])
        .where(FEEDBACK.c.created_at >= created_from)
        .where(FEEDBACK.c.created_at < created_to)
        .order_by(FEEDBACK.c.id)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=APP_ROW_SCHEMA.names)
    for name in ("id", "rating", "row_version"):
        frame[name] = frame[name].astype("Int64")
    for name in ("created_at", "updated_at", "deleted_at"):
        frame[name] = pd.to_datetime(frame[name])
    return spark.createDataFrame(frame, APP_ROW_SCHEMA)


def run_nightly_etl(
    spark: SparkSession, settings: Settings, day: date, engine: Engine | None = None
) -> EtlResult:
    engine = engine or engine_for(settings.legacy_db_url)
    create_schema(engine)
    start = datetime(day.year, day.month, day.day)
    rows = read_app_rows(spark, engine, start, start + timedelta(days=1))
    exported_at = datetime.now(UTC).replace(tzinfo=None)
    export = feedback_export(rows, day, exported_at).persist()
    try:
        count = export.count()
        path = ensure_table(spark, settings, LEGACY_FEEDBACK_EXPORT)
        delta_replace(export, path, f"export_date = '{day.isoformat()}'")
    finally:
        export.unpersist()
    return EtlResult(day, count, path)
