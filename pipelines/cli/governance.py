"""`afl retention`: the lake's retention, enforced."""

from __future__ import annotations

import click

from pipelines.cli.output import progress
from pipelines.settings import Settings


@click.group()
def retention() -> None:
    """Delete what has outlived its class's retention (legal holds kept)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option(
    "--vacuum-hours",
    type=click.IntRange(min=0),
    default=168,
    show_default=True,
    help="Remove deleted rows' files older than this (below 168 only on a lake no one reads).",
)
def retention_run(dry_run: bool, vacuum_hours: int) -> None:
    """Expire rows past their retention in every table; record the run in ops.retention_runs."""
    from pipelines.retention.run import RetentionOptions, run_retention
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    report = run_retention(
        get_spark(settings, app_name="afl-retention"),
        settings,
        RetentionOptions(dry_run=dry_run, vacuum_hours=vacuum_hours),
        progress=progress,
    )
    click.echo(report.lines()[-1])
