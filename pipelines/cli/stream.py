"""`afl stream`, `afl verify`, `afl quarantine`: the ingest stream and the proofs about it."""

from __future__ import annotations

import sys

import click

from pipelines.cli.output import format_rows, progress
from pipelines.errors import AflError
from pipelines.settings import Settings


@click.group(invoke_without_command=True)
@click.option("--available-now", is_flag=True, help="Drain what is there, then exit.")
@click.option("--trigger-interval", default="1 second", show_default=True)
@click.option(
    "--schema-evolution",
    type=click.Choice(["addNewColumns", "rescue", "failOnNewColumns"]),
    default="addNewColumns",
    show_default=True,
    help="New contract fields: add columns, keep them in _rescued_data, or stop.",
)
@click.option("--max-offsets-per-trigger", default=250_000, show_default=True)
@click.option(
    "--wait-for-lease",
    type=click.FloatRange(min=0),
    default=0.0,
    metavar="SECONDS",
    help="Another process holds the checkpoint: wait this long for it (default: stop at once).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(min=0, max=65535),
    default=None,
    help="Serve Prometheus /metrics on this port while streaming (default: AFL_METRICS_PORT).",
)
@click.pass_context
def stream(
    ctx: click.Context,
    available_now: bool,
    trigger_interval: str,
    schema_evolution: str,
    max_offsets_per_trigger: int,
    wait_for_lease: float,
    metrics_port: int | None,
) -> None:
    """Stream the agent topics into Delta (continuous until Ctrl-C, or --available-now)."""
    if ctx.invoked_subcommand is not None:
        return
    from pipelines.ingest.schema_fit import SchemaEvolution
    from pipelines.ingest.stream import StreamOptions, run_stream

    options = StreamOptions(
        available_now=available_now,
        trigger_interval=trigger_interval,
        schema_evolution=SchemaEvolution(schema_evolution),
        max_offsets_per_trigger=max_offsets_per_trigger,
        lease_wait_s=wait_for_lease,
    )
    settings = Settings.from_env()
    if metrics_port is not None:
        settings = settings.with_overrides(metrics_port=metrics_port)
    run_stream(options, settings, progress=progress)


@stream.command("status")
def stream_status_cmd() -> None:
    """Who runs the stream, its lag behind Kafka per partition, its last batch (no Spark)."""
    from pipelines.ingest.status import stream_status
    from pipelines.ingest.stream import registry_topics

    settings = Settings.from_env()
    for line in stream_status(settings, registry_topics(settings)).lines():
        click.echo(line)


@click.group()
def verify() -> None:
    """Proofs about the lake."""


@verify.command("offsets")
@click.option("--bronze-path", help="Check this copy of bronze instead of the lake's.")
def verify_offsets_cmd(bronze_path: str | None) -> None:
    """Bronze holds every Kafka offset once, up to the committed end (exit 1 if not)."""
    from pipelines.ingest.offsets import verify_offsets
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    reports = verify_offsets(get_spark(settings, app_name="afl-verify"), settings, bronze_path)
    for report in reports:
        click.echo(report.describe())
    gaps = sum(len(r.gaps) for r in reports)
    repeats = sum(len(r.repeats) for r in reports)
    click.echo(f"{len(reports)} partitions: {gaps} gap(s), {repeats} repeated offset(s)")
    if gaps or repeats:
        sys.exit(1)


@verify.command("lake")
def verify_lake_cmd() -> None:
    """Every invariant of the lake, one line each (exit 1 naming each violation)."""
    from pipelines.ingest.verify import verify_lake
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    checks = verify_lake(get_spark(settings, app_name="afl-verify"), settings)
    for check in checks:
        click.echo(check.describe())
    broken = [c.name for c in checks if not c.ok]
    click.echo(f"{len(checks) - len(broken)} of {len(checks)} invariants hold")
    if broken:
        sys.exit(1)


@click.group()
def quarantine() -> None:
    """Records that could not become silver rows."""


@quarantine.command("replay")
def quarantine_replay() -> None:
    """Re-drive quarantined records through the current contracts (after a contract fix)."""
    from pipelines.ingest.replay import replay_quarantine
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    result = replay_quarantine(get_spark(settings, app_name="afl-replay"), settings)
    click.echo(
        f"examined {result.examined:,}: landed in silver {result.landed:,}, "
        f"already in silver {result.already_in_silver:,}, still failing {result.still_failing:,}"
    )


@quarantine.command("summary")
def quarantine_summary() -> None:
    """Quarantined records by reason."""
    from pipelines.spark.session import get_spark
    from pipelines.spark.tables import QUARANTINE, check_access, register_existing

    settings = Settings.from_env()
    check_access(QUARANTINE.qualified_name, settings)  # raw values: the restricted role's
    spark = get_spark(settings, app_name="afl-quarantine")
    register_existing(spark, settings)
    if not spark.catalog.tableExists(QUARANTINE.qualified_name):
        raise AflError("there is no quarantine table yet")
    rows = spark.sql(
        "SELECT status, stage, reason_kind, count(*) AS records, min(reason) AS example "
        f"FROM {QUARANTINE.qualified_name} GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC"
    ).collect()
    click.echo(
        format_rows(
            ["status", "stage", "reason_kind", "records", "example"], [tuple(r) for r in rows]
        )
    )
