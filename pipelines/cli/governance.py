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


@click.command()
@click.option("--user-id", required=True, help="The subject: their user id as the apps send it.")
@click.option("--tenant", default=None, help="Only the subject's data in this tenant.")
@click.option("--dry-run", is_flag=True, help="Count the subject's rows per table; delete nothing.")
def erase(user_id: str, tenant: str | None, dry_run: bool) -> None:
    """Erase one subject's data from every table; prove none is left; record it in
    ops.erasures (the subject only as a keyed digest). Needs AFL_ROLE=restricted."""
    from pipelines.retention.erasure import ErasureOptions, erase_subject, require_restricted
    from pipelines.spark.session import get_spark

    options = ErasureOptions(user_id=user_id, tenant_id=tenant or None, dry_run=dry_run)
    settings = Settings.from_env()
    require_restricted(settings)  # before Spark starts
    report = erase_subject(
        get_spark(settings, app_name="afl-erase"), settings, options, progress=progress
    )
    click.echo(report.lines()[-1])
