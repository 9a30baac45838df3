"""The SparkSession factory every job, CLI command, Dagster asset and test uses.

Run locally it resolves delta-spark and the Kafka source from Maven Central through
Spark's own package mechanism (cached in the settings' cache dir). Under spark-submit the
cluster owns master and classpath: submit with ``--packages "$(afl spark packages)"``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from pyspark import SparkContext
from pyspark.logger import PySparkLogger
from pyspark.sql import SparkSession

from pipelines.settings import Settings

IVY_SETTINGS = Path(__file__).with_name("ivysettings.xml")
SCALA_BINARY = "2.13"
APP_NAME = "agent-feedback-lakehouse"


def spark_packages(spark_version: str | None = None, delta_version: str | None = None) -> list[str]:
    """Maven coordinates that match the installed pyspark and delta-spark exactly.

    The Kafka source must carry pyspark's exact version. From Delta 4.1 on, the Delta
    artifact names the Spark line it was built for (delta-spark_4.1_2.13).
    """
    spark_version = spark_version or version("pyspark")
    delta_version = delta_version or version("delta-spark")
    delta_major_minor = tuple(int(p) for p in delta_version.split(".")[:2])
    if delta_major_minor >= (4, 1):
        spark_line = ".".join(spark_version.split(".")[:2])
        delta_artifact = f"delta-spark_{spark_line}_{SCALA_BINARY}"
    else:
        delta_artifact = f"delta-spark_{SCALA_BINARY}"
    return [
        f"io.delta:{delta_artifact}:{delta_version}",
        f"org.apache.spark:spark-sql-kafka-0-10_{SCALA_BINARY}:{spark_version}",
    ]


def launched_by_spark_submit() -> bool:
    """pyspark's own signal: spark-submit started the JVM and told Python its port."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def get_spark(
    settings: Settings | None = None,
    app_name: str = APP_NAME,
    extra_conf: Mapping[str, str] | None = None,
    jvm_log: Path | None = None,
) -> SparkSession:
    """The shared session: Delta extensions and catalog, Kafka source, UTC, few partitions.

    One session per process: once it runs, every caller gets it as it is. ``jvm_log``
    sends a local JVM's console output to a file instead of stderr (notebooks).
    """
    running = SparkSession._instantiatedSession
    if running is not None and running.sparkContext._jsc is not None:
        return running
    settings = settings or Settings.from_env()
    builder = SparkSession.builder.appName(app_name)
    if not launched_by_spark_submit():
        # Executors must use this interpreter (the project's venv), not whatever is on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        ivy_settings = settings.spark_ivy_settings or str(IVY_SETTINGS)
        builder = (
            builder.master(settings.spark_master)
            .config("spark.jars.packages", ",".join(spark_packages()))
            .config("spark.jars.ivy", str(settings.cache_path("ivy")))
            .config("spark.jars.ivySettings", ivy_settings)
            .config("spark.driver.memory", settings.spark_driver_memory)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            # Delta's snapshot state reconstruction defaults to 50 tasks: far too many
            # for one small machine.
            .config("spark.databricks.delta.snapshotPartitions", "1")
            # Python workers without Spark's archives on their path (~90 ms a task).
            .config("spark.python.daemon.module", "pipelines.spark.python_daemon")
        )
    conf = {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        # Databases are created in the in-memory catalog; tables are registered by location
        # in each session, so no Derby metastore is shared between processes.
        "spark.sql.warehouse.dir": settings.lake_path("_warehouse"),
        "spark.sql.streaming.forceDeleteTempCheckpointLocation": "true",
        # The per-commit checksum file only speeds up snapshot validation for readers; it
        # doubles the cost of the many small appends a micro-batch makes.
        "spark.databricks.delta.writeChecksumFile.enabled": "false",
        # pandas <-> Spark through Arrow: fast, and nullable integers stay null (not NaN).
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # A stream's micro-batch generates ~160 classes; with the default cache of 100 Spark
        # compiled them all again every batch (~1 s of CPU on 2 cores).
        "spark.sql.codegen.cache.maxEntries": "4000",
        **(extra_conf or {}),
    }
    for key, value in conf.items():
        builder = builder.config(key, value)
    if launched_by_spark_submit() or SparkContext._active_spark_context is not None:
        spark = builder.getOrCreate()
    else:
        with _jvm_console(jvm_log):
            spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    _no_jars_on_python_path(spark.sparkContext)
    _no_error_logs_before_raising()
    return spark


def quiet_jvm_loggers(spark: SparkSession, names: Sequence[str], level: str = "ERROR") -> None:
    """Raise JVM loggers' thresholds at runtime (log4j2), e.g. Kafka's client, which writes
    a warning per reconnect attempt while a broker is down; the stream says it in one line."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None, "a classic (JVM) Spark session"
    configurator = jvm.org.apache.logging.log4j.core.config.Configurator
    for name in names:
        configurator.setLevel(name, jvm.org.apache.logging.log4j.Level.getLevel(level))


def _no_error_logs_before_raising() -> None:
    """PySpark 4 logs every analysis error, JVM trace included, as it builds the exception
    it then raises: a CLI mistake would print a page before its one line. The exception
    keeps the whole message; whoever catches it decides what to print."""
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True


def _no_jars_on_python_path(sc: SparkContext) -> None:
    """Spark adds every resolved package jar to Python's path (in case a package carries
    Python): on the driver and, per task, on every worker, where each task then re-reads
    the jars' directories (hadoop-client-runtime alone holds thousands of entries). Ours
    carry none."""
    includes: list[str] = sc._python_includes or []
    includes[:] = [name for name in includes if not name.endswith(".jar")]
    jars = [p for p in sys.path if p.endswith(".jar")]
    sys.path[:] = [p for p in sys.path if p not in jars]
    for jar in jars:
        sys.path_importer_cache.pop(jar, None)


@contextmanager
def _jvm_console(log_file: Path | None) -> Iterator[None]:
    """Start the local JVM with its stdout on our stderr, or both into ``log_file``.

    Ivy and Spark print progress to the JVM's stdout; a command's results (``afl sql``)
    must own stdout so they can be piped.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    target = None
    try:
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            target = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(target, 1)
            os.dup2(target, 2)
        else:
            os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        if target is not None:
            os.close(target)


def resolve_packages(settings: Settings) -> str:
    """Fetch the Spark packages into the Ivy cache unless this exact list is there already."""
    packages = ",".join(spark_packages())
    stamp = settings.cache_path("ivy", ".resolved")
    if stamp.is_file() and stamp.read_text() == packages:
        return f"Spark packages already resolved: {packages}"
    spark = get_spark(settings, app_name="afl-resolve-packages")
    spark.stop()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(packages)
    return f"Spark packages resolved into {stamp.parent}: {packages}"
