"""`afl sql` and `afl demo`: the lake by table name, and the whole story on local defaults."""

from __future__ import annotations

import click

from pipelines.cli.output import format_rows, progress
from pipelines.errors import AflError
from pipelines.settings import Settings


@click.command()
@click.argument("query")
@click.option("--limit", default=200, show_default=True, help="Rows to print at most.")
def sql(query: str, limit: int) -> None:
    """Run SQL on the lake's tables by name (bronze.*, silver.*, gold.*, ops.*, legacy.*)."""
    from pyspark.errors import AnalysisException, ParseException

    from pipelines.spark.session import get_spark
    from pipelines.spark.tables import check_access, register_existing

    settings = Settings.from_env()
    check_access(query, settings)
    spark = get_spark(settings, app_name="afl-sql")
    register_existing(spark, settings)
    try:
        frame = spark.sql(query)
        rows = frame.limit(limit + 1).collect()
    except (AnalysisException, ParseException) as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise AflError(f"SQL error: {first_line}") from None
    click.echo(format_rows(frame.columns, [tuple(r) for r in rows[:limit]]))
    shown = min(len(rows), limit)
    more = " (more not shown; raise --limit)" if len(rows) > limit else ""
    click.echo(f"({shown} row{'s' if shown != 1 else ''}){more}")


@click.command()
@click.option("--events", default=20_000, show_default=True, help="Agent events to produce.")
@click.option("--fresh", is_flag=True, help="Clear local state first (caches are kept).")
def demo(events: int, fresh: bool) -> None:
    """Run the whole story end to end on the local defaults."""
    from pipelines.demo import run_demo

    run_demo(Settings.from_env(), events=events, progress=progress, fresh=fresh)
