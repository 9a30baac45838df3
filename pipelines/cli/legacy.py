"""`afl legacy` and `afl parity`: the legacy batch path, its mirror, and the daily parity."""

from __future__ import annotations

import sys
from datetime import date, datetime

import click

from pipelines.cli.output import progress
from pipelines.cli.params import DAY, MOMENT, now_to_the_minute
from pipelines.settings import Settings


@click.group()
def legacy() -> None:
    """The legacy app database, its nightly ETL and the mirror into the stream."""


@legacy.command("seed")
@click.option("--events", default=20_000, show_default=True, help="Traffic to derive rows from.")
@click.option("--days-back", default=3.0, show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--end-time", type=MOMENT, help="Latest event time (default: now, to the minute).")
@click.option("--reset", is_flag=True, help="Delete existing feedback rows first.")
def legacy_seed(
    events: int, days_back: float, seed: int, end_time: datetime | None, reset: bool
) -> None:
    """Fill the app database with feedback rows for the traffic generator's sessions."""
    from pipelines.legacy.app_db import engine_for
    from pipelines.legacy.seed import seed_app_db

    settings = Settings.from_env()
    result = seed_app_db(
        engine_for(settings.legacy_db_url),
        seed=seed,
        events=events,
        end_time=end_time or now_to_the_minute(),
        days_back=days_back,
        reset=reset,
    )
    click.echo(
        f"seeded {result.rows:,} feedback rows ({result.edited:,} edited, {result.deleted:,} "
        f"soft-deleted) created {result.first_day} .. {result.last_day}"
    )


@legacy.command("etl")
@click.option("--date", "day", type=DAY, required=True, help="The day to export.")
def legacy_etl(day: date) -> None:
    """Run the nightly batch ETL for one day into legacy.feedback_export."""
    from pipelines.legacy.etl import run_nightly_etl
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    result = run_nightly_etl(get_spark(settings, app_name="afl-legacy-etl"), settings, day)
    click.echo(f"exported {result.rows:,} rows for {result.day} into {result.path}")


@legacy.command("mirror")
@click.option("--replay-from", type=MOMENT, help="Re-publish every row changed since this time.")
def legacy_mirror(replay_from: datetime | None) -> None:
    """Publish app rows changed since the watermark to the feedback topic."""
    from pipelines.legacy.mirror import run_mirror
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    result = run_mirror(
        get_spark(settings, app_name="afl-mirror"),
        settings,
        replay_from=replay_from,
        progress=progress,
    )
    click.echo(
        f"mirrored {result.published:,} row versions ({result.tombstones:,} tombstones); "
        f"watermark {result.watermark_from} -> {result.watermark_to}"
    )


@click.command()
@click.option("--date", "day", type=DAY, required=True, help="The day to compare.")
def parity(day: date) -> None:
    """Compare the legacy export with the stream for one day; write the report (exit 1 on a
    red verdict, for a scheduler to act on)."""
    from pipelines.parity.run import run_parity
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    report = run_parity(get_spark(settings, app_name="afl-parity"), settings, day)
    click.echo(report.explanation)
    for status, n in report.counts.items():
        click.echo(f"  {status:18} {n:>8,}")
    if report.cutover:
        now = report.cutover[-1]
        advice = f", recommendation: {now.recommendation}" if now.recommendation else ""
        click.echo(f"cutover: {now.state}{advice}")
    click.echo(f"report: {report.report_html}")
    if report.verdict == "red":
        sys.exit(1)
