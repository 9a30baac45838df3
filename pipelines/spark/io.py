"""Shared readers and writers: the same options everywhere we read Kafka or write Delta."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, Row, SparkSession

from pipelines.errors import AflError
from pipelines.settings import Settings


def read_kafka_stream(
    spark: SparkSession,
    settings: Settings,
    topics: Sequence[str],
    max_offsets_per_trigger: int | None = None,
    starting_offsets: str | None = None,
) -> DataFrame:
    """A streaming DataFrame over the given physical topics, from the earliest offset (or
    ``starting_offsets``, Kafka's JSON form, for a query that has no checkpoint yet)."""
    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
        .option("subscribe", ",".join(topics))
        .option("startingOffsets", starting_offsets or "earliest")
        .option("includeHeaders", "true")
        # Records deleted by retention before we read them must stop the stream loudly:
        # silently skipping them would break the evidence trail.
        .option("failOnDataLoss", "true")
    )
    if max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(max_offsets_per_trigger))
    return reader.load()


def delta_append(
    rows: DataFrame, path: str, txn: tuple[str, int] | None = None, merge_schema: bool = False
) -> None:
    """Append to a Delta table; with ``txn`` (app id, version) a repeated write is skipped.

    That is Delta's idempotent write: a replayed micro-batch or a retried job cannot add
    the same rows twice.
    """
    writer = rows.write.format("delta").mode("append")
    if txn is not None:
        writer = writer.option("txnAppId", txn[0]).option("txnVersion", str(txn[1]))
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    writer.save(path)


def delta_replace(rows: DataFrame, path: str, where: str) -> None:
    """Overwrite only the rows matching ``where`` (one day, one slice): a re-run replaces."""
    rows.write.format("delta").mode("overwrite").option("replaceWhere", where).save(path)


def delta_version(spark: SparkSession, path: str) -> int:
    """The table's latest Delta version (what a reader sees now)."""
    return int(one_row(DeltaTable.forPath(spark, path).history(1))["version"])


def one_row(frame: DataFrame) -> Row:
    """The first row of a frame that has one (an aggregate, a history of a table)."""
    row = frame.first()
    if row is None:
        raise AflError("expected a row, the query returned none")
    return row


def _jvm(spark: SparkSession) -> Any:
    """The driver's JVM gateway (py4j): untyped, classic (non-Connect) sessions only."""
    jvm = spark.sparkContext._jvm
    if jvm is None:
        raise AflError("this needs a classic Spark session (a JVM on the driver)")
    return jvm


def _hadoop_path(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    """(FileSystem, Path) for a URI: local folders and object stores alike."""
    path = _jvm(spark).org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def list_names(spark: SparkSession, uri: str) -> list[str]:
    """File names directly under a folder, through Hadoop's FileSystem (local or object store)."""
    fs, path = _hadoop_path(spark, uri)
    if not fs.exists(path):
        return []
    return [status.getPath().getName() for status in fs.listStatus(path)]


def read_text(spark: SparkSession, uri: str) -> str:
    """A small text file's content, through Hadoop's FileSystem."""
    fs, path = _hadoop_path(spark, uri)
    stream = fs.open(path)
    try:
        io_utils = _jvm(spark).org.apache.commons.io.IOUtils
        return bytes(io_utils.toByteArray(stream)).decode()
    finally:
        stream.close()
