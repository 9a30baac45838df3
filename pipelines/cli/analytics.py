"""`afl gold`, `afl quality`, `afl evaluate`, `afl evaluators`: what is built on silver."""

from __future__ import annotations

import sys
from datetime import date

import click

from pipelines.cli.params import DAY, DayRange
from pipelines.settings import Settings


@click.command()
@click.option("--table", required=True, help="A table by name, e.g. silver.feedback.")
@click.option("--date", "day", type=DAY, required=True, help="The partition (day) to validate.")
def quality(table: str, day: date) -> None:
    """Run the table's Great Expectations suite on one day (exit 1 when it fails)."""
    from pipelines.quality.runner import validate_table_day
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    report = validate_table_day(get_spark(settings, app_name="afl-quality"), settings, table, day)
    for outcome in report.outcomes:
        if not outcome.success:
            click.echo(outcome.describe())
    passed = len(report.outcomes) - len(report.failures) - len(report.warnings)
    click.echo(
        f"{table} {report.day}: {report.rows:,} rows, {passed} passed, "
        f"{len(report.failures)} failed, {len(report.warnings)} warning(s); "
        f"data docs: {report.docs_index}"
    )
    if not report.passed:
        sys.exit(1)


@click.command()
@click.option("--date", "day", type=DAY, required=True, help="The day to (re)build.")
@click.option("--table", "tables", multiple=True, help="Gold table(s); default: all three.")
def gold(day: date, tables: tuple[str, ...]) -> None:
    """Build gold tables for one day from silver (replaces that day only)."""
    from pipelines.gold.build import GOLD_BUILDS, build_gold_day
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    spark = get_spark(settings, app_name="afl-gold")
    for name in tables or tuple(GOLD_BUILDS):
        result = build_gold_day(spark, settings, name.removeprefix("gold."), day)
        click.echo(
            f"{result.table} {result.day}: {result.rows:,} rows (Delta v{result.delta_version})"
        )


@click.command()
@click.option("--evaluator", "key", required=True, help="NAME@VERSION (a bare name: newest).")
@click.option("--from", "first", type=DAY, required=True, help="First day.")
@click.option("--to", "last", type=DAY, required=True, help="Last day (inclusive).")
@click.option("--as-of", help="Read silver as of a Delta version (an integer) or a timestamp.")
@click.option("--dry-run", is_flag=True, help="Count units (and judge tokens); write nothing.")
@click.option("--sample", type=float, help="Judge only this fraction of units (0..1).")
@click.option("--cap", type=int, help="Judge at most this many units per day.")
@click.option("--rate", type=float, help="Judge calls per second at most.")
@click.option("--publish", is_flag=True, help="Also publish the scores to agent.evaluations.v1.")
def evaluate(
    key: str,
    first: date,
    last: date,
    as_of: str | None,
    dry_run: bool,
    sample: float | None,
    cap: int | None,
    rate: float | None,
    publish: bool,
) -> None:
    """Backfill an evaluator version over a date range into gold.evaluator_scores."""
    from pipelines.evaluators.backfill import backfill
    from pipelines.evaluators.publish import publish_scores
    from pipelines.evaluators.registry import get_evaluator
    from pipelines.spark.session import get_spark

    days = DayRange(first, last)
    settings = Settings.from_env()
    spark = get_spark(settings, app_name="afl-evaluate")
    result = backfill(
        spark,
        settings,
        key,
        days.first,
        days.last,
        as_of=as_of,
        dry_run=dry_run,
        sample_fraction=sample,
        cap_per_day=cap,
        rate_per_second=rate,
        progress=click.echo,
    )
    verb = "would score" if dry_run else "scored"
    tokens = sum(d.estimated_tokens for d in result.days)
    click.echo(
        f"{result.evaluator} (code {result.code_hash}) {verb} {result.units:,} units over "
        f"{len(result.days)} day(s); {result.written:,} written; {result.judge_calls:,} judge "
        f"calls" + (f"; ~{tokens:,} tokens" if tokens else "")
    )
    if publish and not dry_run:
        sent = publish_scores(
            spark,
            settings,
            get_evaluator(result.evaluator),
            result.code_hash,
            days.first,
            days.last,
        )
        click.echo(f"published {sent:,} evaluation events")


@click.group()
def evaluators() -> None:
    """The evaluator registry."""


@evaluators.command("list")
def evaluators_list() -> None:
    """Every registered evaluator version with what it reads and judges."""
    from pipelines.evaluators.registry import registered

    for e in registered():
        kind = "model-based" if e.model_based else "deterministic"
        doc = (type(e).__doc__ or "").strip().splitlines()[0]
        click.echo(f"{e.key:32} {e.unit_type:7} {kind:13} reads {', '.join(e.reads):28} {doc}")


@evaluators.command("compare")
@click.option("--evaluator", "name", required=True)
@click.option("--from-version", type=int, required=True)
@click.option("--to-version", type=int, required=True)
@click.option("--date", "day", type=DAY, required=True)
def evaluators_compare(name: str, from_version: int, to_version: int, day: date) -> None:
    """How many units changed label between two versions on a day, with examples."""
    from pipelines.evaluators.compare import compare_versions
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    c = compare_versions(
        get_spark(settings, app_name="afl-compare"), settings, name, from_version, to_version, day
    )
    click.echo(
        f"{name} v{from_version} -> v{to_version} on {c.day}: {c.changed:,} of "
        f"{c.units_compared:,} units changed label"
    )
    for transition, n in sorted(c.transitions.items()):
        click.echo(f"  {transition:32} {n:>6,}")
    for example in c.examples[:5]:
        click.echo(
            f"  e.g. {example['unit_id']}: {example['a_explanation']} | {example['b_explanation']}"
        )
