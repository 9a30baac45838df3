"""`make demo`: the whole story on the local defaults, with progress as it goes.

Agents emit three days of traffic (with bad records and a v2 schema change); the legacy app
database holds the same feedback; the stream lands everything in Delta; the nightly ETL,
the mirror and parity compare the two paths day by day; evaluators and gold run over the
days; quality gates check them; and the end says where to look.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pyspark.sql import functions as F

from pipelines.evaluators.backfill import backfill
from pipelines.evaluators.compare import compare_versions
from pipelines.gold.build import GOLD_BUILDS, build_gold_day
from pipelines.ingest.stream import CATCH_UP, run_ingest
from pipelines.ingest.verify import verify_lake
from pipelines.kafka_admin import create_topics
from pipelines.legacy.app_db import engine_for
from pipelines.legacy.etl import run_nightly_etl
from pipelines.legacy.mirror import run_mirror
from pipelines.legacy.seed import seed_app_db
from pipelines.local.broker import LocalBroker
from pipelines.parity.run import run_parity
from pipelines.producer.sdk import AgentEventProducer
from pipelines.producer.traffic import TrafficGenerator, send_traffic
from pipelines.quality.runner import validate_table_day
from pipelines.settings import Settings, checkout_root
from pipelines.spark.session import get_spark
from pipelines.spark.tables import QUARANTINE, SILVER_TABLE_FOR, register_existing

Progress = Callable[[str], None]
DAYS = 3
SEED = 8
STATE = ("lake", "lake_restricted", "checkpoints", "kafka", "reports", "gx", "legacy_app.db")
QUALITY_TABLES = (
    "silver.feedback",
    "silver.outcomes",
    "silver.tool_calls",
    "silver.policy_decisions",
    "gold.feedback_daily",
    "gold.tool_reliability_daily",
    "gold.agent_scorecard_daily",
)


def reset_state(settings: Settings, progress: Progress) -> None:
    """Start from nothing (downloads in the cache are kept)."""
    LocalBroker(settings).down()
    for name in STATE:
        path = Path(settings.home) / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    progress(f"  cleared local state in {settings.home} (caches kept)")


def run_demo(settings: Settings, events: int, progress: Progress, fresh: bool = False) -> None:
    started = time.monotonic()
    total = 10
    step = _stepper(progress, total)
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [(end - timedelta(days=n)).date() for n in range(DAYS, 0, -1)]
    v1_events = int(events * 0.8)

    step("local Kafka broker and topics")
    if fresh:
        reset_state(settings, progress)
    LocalBroker(settings).up(progress=progress)
    create_topics(settings)

    step(f"agents emit {events:,} events over {days[0]} .. {days[-1]} (2% bad, then a v2 change)")
    with AgentEventProducer(settings) as producer:
        for version, count in ((1, v1_events), (2, events - v1_events)):
            generator = TrafficGenerator(
                seed=SEED + version - 1,
                events=count,
                end_time=end,
                days_back=DAYS,
                schema_version=version,
                bad_fraction=0.02,
            )
            send_traffic(producer, generator, progress=progress)

    step("the legacy app database gets the same users' feedback (edits, soft deletes)")
    seeded = seed_app_db(
        engine_for(settings.legacy_db_url),
        seed=SEED,
        events=v1_events,
        end_time=end,
        days_back=DAYS,
        reset=True,
    )
    progress(f"  {seeded.rows:,} rows, {seeded.edited} edited, {seeded.deleted} soft-deleted")

    spark = get_spark(settings, app_name="afl-demo")
    step("nightly batch ETL for each day, then the mirror into the feedback topic")
    for day in days:
        result = run_nightly_etl(spark, settings, day)
        progress(f"  legacy.feedback_export {day}: {result.rows:,} rows")
    mirrored = run_mirror(spark, settings)
    progress(f"  mirrored {mirrored.published:,} row versions ({mirrored.tombstones} tombstones)")

    step("the stream catches up: bronze, silver, quarantine (exactly once)")
    run_ingest(spark, settings, CATCH_UP, progress=lambda m: progress(f"  {m}"))
    for check in verify_lake(spark, settings):  # the same proof as `afl verify lake`
        progress(f"  {check.describe()}")

    step("parity: legacy export vs stream, day by day")
    for day in days:
        report = run_parity(spark, settings, day)
        progress(f"  {day}: {report.explanation}")
    cutover = report.cutover[-1]
    progress(f"  cutover: {cutover.state} ({cutover.reason})")

    step("evaluators: helpfulness v1 and v2 over the days, and how they differ")
    for key in (
        "helpfulness@1",
        "helpfulness@2",
        "unescalated_tool_failure@1",
        "latency_sla_breach@1",
    ):
        scored = backfill(spark, settings, key, days[0], days[-1])
        progress(f"  {key}: {scored.units:,} units scored")
    comparison = compare_versions(spark, settings, "helpfulness", 1, 2, days[-1])
    progress(
        f"  helpfulness v1 -> v2 on {days[-1]}: {comparison.changed} of "
        f"{comparison.units_compared} units changed label"
    )

    step("gold: daily aggregates")
    for day in days:
        for name in GOLD_BUILDS:
            build_gold_day(spark, settings, name, day)
    progress(f"  {len(GOLD_BUILDS)} gold tables built for {len(days)} days")

    step(f"quality gates (Great Expectations) for {days[-1]}")
    docs = ""
    for table in QUALITY_TABLES:
        q = validate_table_day(spark, settings, table, days[-1])
        docs = q.docs_index
        status = "passed" if q.passed else f"FAILED {len(q.failures)}"
        warned = f", {len(q.warnings)} warning(s)" if q.warnings else ""
        progress(f"  {table:30} {q.rows:>7,} rows  {status}{warned}")

    step("what landed")
    register_existing(spark, settings)
    for table in SILVER_TABLE_FOR.values():  # control commands and approvals: none sent
        if spark.catalog.tableExists(f"silver.{table}"):
            progress(f"  silver.{table:18} {spark.table(f'silver.{table}').count():>8,} rows")
    # Quarantine holds raw values (restricted): only its counts are shown, read by path.
    quarantine = spark.read.format("delta").load(QUARANTINE.path(settings))
    for row in quarantine.groupBy("reason_kind").count().orderBy(F.desc("count")).collect():
        progress(f"  quarantine {row['reason_kind']:20} {row['count']:>6,}")

    _pointers(settings, progress, days, docs, time.monotonic() - started)


def _pointers(
    settings: Settings, say: Progress, days: list[date], docs: str, seconds: float
) -> None:
    root = checkout_root() or Path.cwd()
    reports = Path(settings.reports_dir) / "parity"
    say("")
    say(f"Done in {seconds / 60:.1f} minutes. Where to look:")
    say(f"  parity reports      {reports / f'{days[-1]}.html'} (one per day, + .md)")
    say(f"  data docs           {docs}")
    say(f"  Dagster UI          cd {root} && .venv/bin/dagster dev -m dagster_project.definitions")
    say(f"  notebooks           {root / 'notebooks'}")
    say(
        "                      run one: .venv/bin/papermill "
        "notebooks/02_replay_a_session.ipynb .afl/reports/replay.ipynb"
    )
    say(
        '  SQL                 .venv/bin/afl sql "SELECT agent_name, prompt_version, '
        'sum(thumbs_down) FROM gold.feedback_daily GROUP BY 1, 2"'
    )
    pad = " " * 22
    say(
        f'{pad}.venv/bin/afl sql "SELECT type, count(*) FROM observability.observations GROUP BY 1"'
    )
    say(f'{pad}.venv/bin/afl sql "SELECT as_of_date, state, recommendation FROM ops.cutover_state"')
    say("  stop the broker     .venv/bin/afl infra down")


def _stepper(progress: Progress, total: int) -> Callable[[str], None]:
    count = 0

    def step(message: str) -> None:
        nonlocal count
        count += 1
        progress(f"[{count}/{total}] {message}")

    return step
