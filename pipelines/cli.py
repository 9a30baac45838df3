"""The ``afl`` command: thin wrappers over the library, one-line errors, no stack traces."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import click

from pipelines.errors import AflError
from pipelines.settings import Settings


def _echo(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Agent Feedback Lakehouse: Kafka -> Spark -> Delta, with legacy parity."""


# -- infra -----------------------------------------------------------------------------


@cli.group()
def infra() -> None:
    """The local Kafka broker (KRaft, single node, from Maven Central artifacts)."""


@infra.command("fetch")
def infra_fetch() -> None:
    """Resolve the broker's jars from Maven Central into the cache (idempotent)."""
    from pipelines.local.broker import LocalBroker

    libs = LocalBroker(Settings.from_env()).fetch(progress=_echo)
    click.echo(f"Kafka broker artifacts ready in {libs}")


@infra.command("up")
def infra_up() -> None:
    """Start the broker and wait until it answers."""
    from pipelines.local.broker import LocalBroker

    broker = LocalBroker(Settings.from_env())
    if broker.up(progress=_echo):
        click.echo(f"Kafka broker started; bootstrap servers: {broker.bootstrap}")
    else:
        click.echo(f"Kafka broker already running at {broker.bootstrap}; nothing to do")


@infra.command("status")
def infra_status() -> None:
    """Say whether the broker runs and answers (exit 1 when it does not run)."""
    from pipelines.local.broker import LocalBroker

    status = LocalBroker(Settings.from_env()).status()
    click.echo(status.describe())
    if not status.running:
        sys.exit(1)


@infra.command("down")
def infra_down() -> None:
    """Stop the broker cleanly; its data stays for the next `up`."""
    from pipelines.local.broker import LocalBroker

    broker = LocalBroker(Settings.from_env())
    if broker.down():
        click.echo(f"Kafka broker stopped; data kept in {broker.data_dir}")
    else:
        click.echo("Kafka broker was not running; nothing to do")


# -- topics ----------------------------------------------------------------------------


@cli.group()
def topics() -> None:
    """Kafka topics from the registry."""


@topics.command("create")
def topics_create() -> None:
    """Create the registry's topics that are missing (idempotent)."""
    from pipelines.kafka_admin import create_topics

    for result in create_topics(Settings.from_env()):
        click.echo(f"{result.status:8} {result.name} ({result.partitions} partitions)")


@topics.command("list")
def topics_list() -> None:
    """List the registry with what exists on the cluster."""
    from pipelines.contracts.topics import TOPICS
    from pipelines.kafka_admin import list_topics

    settings = Settings.from_env()
    existing = list_topics(settings)
    for t in TOPICS:
        name = settings.topic_name(t.name)
        state = f"{existing[name]} partitions" if name in existing else "missing"
        click.echo(f"{name:24} {t.classification:13} {state:14} {t.carries}")


# -- contracts and traffic ---------------------------------------------------------


@cli.group()
def contracts() -> None:
    """Event contracts (JSON Schema, one file per event type and version)."""


@contracts.command("list")
def contracts_list() -> None:
    """Every event type with its versions, topic and classified fields."""
    from pipelines.contracts.registry import all_contracts
    from pipelines.contracts.topics import topic_for_event_type

    for c in all_contracts():
        classes = ", ".join(f"{k}={v}" for k, v in c.field_classes.items()) or "-"
        topic = topic_for_event_type(c.event_type).name
        click.echo(f"{c.event_type:16} v{c.version}  {topic:22} {classes}")


@contracts.command("check")
@click.option("--old", "old_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--new", "new_file", type=click.Path(exists=True, dir_okay=False))
def contracts_check(old_file: str | None, new_file: str | None) -> None:
    """Check that each contract version is compatible with the one before it.

    With --old and --new, compare two payload schema files instead (a proposed change).
    """
    import json

    from pipelines.contracts.compatibility import check_registry, compare_schemas, is_compatible

    if bool(old_file) != bool(new_file):
        raise click.UsageError("--old and --new go together")
    if old_file and new_file:
        with open(old_file) as old, open(new_file) as new:
            pairs = [(old_file, "", new_file, compare_schemas(json.load(old), json.load(new)))]
    else:
        pairs = [(t, f"v{a}", f"v{b}", ch) for t, a, b, ch in check_registry()]
    broken = 0
    for name, old_v, new_v, changes in pairs:
        verdict = "compatible" if is_compatible(changes) else "INCOMPATIBLE"
        broken += not is_compatible(changes)
        click.echo(f"{name} {old_v} -> {new_v}: {verdict}".replace("  ", " "))
        for change in changes:
            click.echo(f"  {change}")
    if broken:
        raise AflError(f"{broken} incompatible contract change(s); see above")


@cli.command()
@click.option("--events", default=10_000, show_default=True, help="Records to send in total.")
@click.option(
    "--rate", default=0.0, show_default=True, help="Records per second; 0 = as fast as possible."
)
@click.option(
    "--days-back", default=3.0, show_default=True, help="Spread event times over this many days."
)
@click.option("--schema-version", type=click.Choice(["1", "2"]), default="1", show_default=True)
@click.option(
    "--bad-fraction", default=0.0, show_default=True, help="Fraction of bad records (0..1)."
)
@click.option("--seed", default=42, show_default=True)
@click.option("--end-time", help="Latest event time, ISO-8601 (default: now, to the minute).")
@click.option("--manifest", type=click.Path(dir_okay=False), help="Write expected counts here.")
@click.option("--dry-run", is_flag=True, help="Generate and count, send nothing.")
def produce(
    events: int,
    rate: float,
    days_back: float,
    schema_version: str,
    bad_fraction: float,
    seed: int,
    end_time: str | None,
    manifest: str | None,
    dry_run: bool,
) -> None:
    """Send realistic, seeded agent traffic (with a fraction of bad records) to the topics."""
    import json
    from datetime import UTC, datetime

    from pipelines.producer.sdk import AgentEventProducer
    from pipelines.producer.traffic import TrafficGenerator, send_traffic

    if end_time:
        try:
            end = datetime.fromisoformat(end_time)
        except ValueError:
            raise click.BadParameter(
                f"not an ISO-8601 time: {end_time!r}", param_hint="--end-time"
            ) from None
        end = end if end.tzinfo else end.replace(tzinfo=UTC)
    else:
        end = datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        generator = TrafficGenerator(
            seed=seed,
            events=events,
            end_time=end,
            days_back=days_back,
            schema_version=int(schema_version),
            bad_fraction=bad_fraction,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    settings = Settings.from_env()
    if dry_run:
        for _ in generator:
            pass
        result = generator.manifest
    else:
        _echo(f"producing {events:,} records to {settings.kafka_bootstrap_servers} ...")
        with AgentEventProducer(settings) as producer:
            result = send_traffic(producer, generator, rate=rate or None, progress=_echo)
            metrics = producer.metrics.snapshot()
        p50, p95 = metrics["delivery_latency_p50_ms"], metrics["delivery_latency_p95_ms"]
        _echo(
            f"delivered {metrics['sent']:,}, failed {metrics['failed']}, "
            f"delivery latency p50 {p50} ms, p95 {p95} ms"
        )
    summary = result.to_dict()
    click.echo("valid events by type:")
    for event_type, count in summary["valid_distinct"].items():
        click.echo(f"  {event_type:16} {count:>9,}")
    click.echo("bad records by kind:")
    for kind, count in summary["bad"].items():
        click.echo(f"  {kind:18} {count:>7,}")
    click.echo(f"records sent: {summary['records_sent']:,}" + (" (dry run)" if dry_run else ""))
    if manifest:
        with open(manifest, "w") as fh:
            json.dump(summary, fh, indent=2)
            fh.write("\n")
        click.echo(f"manifest: {manifest}")


# -- spark / stream --------------------------------------------------------------------


@cli.group()
def spark() -> None:
    """Spark helpers."""


@spark.command("packages")
def spark_packages_cmd() -> None:
    """Print the Maven packages for `spark-submit --packages` (matches the pinned pyspark)."""
    from pipelines.spark.session import spark_packages

    click.echo(",".join(spark_packages()))


@spark.command("resolve")
def spark_resolve() -> None:
    """Resolve delta-spark and the Kafka source into the Ivy cache once (setup uses this)."""
    from pipelines.spark.session import resolve_packages

    click.echo(resolve_packages(Settings.from_env()))


@cli.group(invoke_without_command=True)
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
    from jobs.stream_ingest import main as stream_main
    from pipelines.ingest.schema_fit import SchemaEvolution
    from pipelines.ingest.stream import StreamOptions

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
    stream_main(options, progress=_echo, settings=settings)


@stream.command("status")
def stream_status_cmd() -> None:
    """Who runs the stream, its lag behind Kafka per partition, its last batch (no Spark)."""
    from pipelines.ingest.status import stream_status
    from pipelines.ingest.stream import registry_topics

    settings = Settings.from_env()
    for line in stream_status(settings, registry_topics(settings)).lines():
        click.echo(line)


@cli.group()
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


@cli.group()
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
    from pipelines.spark.tables import QUARANTINE, register_existing

    settings = Settings.from_env()
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


# -- legacy path and parity ------------------------------------------------------------


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not a date (YYYY-MM-DD): {value!r}") from None


@cli.group()
def legacy() -> None:
    """The legacy app database, its nightly ETL and the mirror into the stream."""


@legacy.command("seed")
@click.option("--events", default=20_000, show_default=True, help="Traffic to derive rows from.")
@click.option("--days-back", default=3.0, show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--end-time", help="Latest event time, ISO-8601 (default: now, to the minute).")
@click.option("--reset", is_flag=True, help="Delete existing feedback rows first.")
def legacy_seed(
    events: int, days_back: float, seed: int, end_time: str | None, reset: bool
) -> None:
    """Fill the app database with feedback rows for the traffic generator's sessions."""
    from pipelines.legacy.app_db import engine_for
    from pipelines.legacy.seed import seed_app_db

    settings = Settings.from_env()
    result = seed_app_db(
        engine_for(settings.legacy_db_url),
        seed=seed,
        events=events,
        end_time=_end_time(end_time),
        days_back=days_back,
        reset=reset,
    )
    click.echo(
        f"seeded {result.rows:,} feedback rows ({result.edited:,} edited, {result.deleted:,} "
        f"soft-deleted) created {result.first_day} .. {result.last_day}"
    )


@legacy.command("etl")
@click.option("--date", "day", required=True, help="The day to export, YYYY-MM-DD.")
def legacy_etl(day: str) -> None:
    """Run the nightly batch ETL for one day into legacy.feedback_export."""
    from jobs.legacy_nightly_etl import main as etl_main

    result = etl_main(_day(day))
    click.echo(f"exported {result.rows:,} rows for {result.day} into {result.path}")


@legacy.command("mirror")
@click.option("--replay-from", help="Re-publish every row changed since this time (ISO-8601).")
def legacy_mirror(replay_from: str | None) -> None:
    """Publish app rows changed since the watermark to the feedback topic."""
    from pipelines.legacy.mirror import run_mirror
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    since = _end_time(replay_from) if replay_from else None
    result = run_mirror(
        get_spark(settings, app_name="afl-mirror"), settings, replay_from=since, progress=_echo
    )
    click.echo(
        f"mirrored {result.published:,} row versions ({result.tombstones:,} tombstones); "
        f"watermark {result.watermark_from} -> {result.watermark_to}"
    )


@cli.command()
@click.option("--date", "day", required=True, help="The day to compare, YYYY-MM-DD.")
def parity(day: str) -> None:
    """Compare the legacy export with the stream for one day; write the report."""
    from pipelines.parity.run import run_parity
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    report = run_parity(get_spark(settings, app_name="afl-parity"), settings, _day(day))
    click.echo(report.explanation)
    for status, n in report.counts.items():
        click.echo(f"  {status:18} {n:>8,}")
    if report.cutover:
        now = report.cutover[-1]
        advice = f", recommendation: {now.recommendation}" if now.recommendation else ""
        click.echo(f"cutover: {now.state}{advice}")
    click.echo(f"report: {report.report_html}")


@cli.command()
@click.option("--table", required=True, help="A table by name, e.g. silver.feedback.")
@click.option("--date", "day", required=True, help="The partition (day) to validate.")
def quality(table: str, day: str) -> None:
    """Run the table's Great Expectations suite on one day (exit 1 when it fails)."""
    from pipelines.quality.runner import validate_table_day
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    report = validate_table_day(
        get_spark(settings, app_name="afl-quality"), settings, table, _day(day)
    )
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


@cli.command()
@click.option("--date", "day", required=True, help="The day to (re)build.")
@click.option("--table", "tables", multiple=True, help="Gold table(s); default: all three.")
def gold(day: str, tables: tuple[str, ...]) -> None:
    """Build gold tables for one day from silver (replaces that day only)."""
    from pipelines.gold.build import GOLD_BUILDS, build_gold_day
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    spark = get_spark(settings, app_name="afl-gold")
    for name in tables or tuple(GOLD_BUILDS):
        result = build_gold_day(spark, settings, name.removeprefix("gold."), _day(day))
        click.echo(
            f"{result.table} {result.day}: {result.rows:,} rows (Delta v{result.delta_version})"
        )


@cli.command()
@click.option("--evaluator", "key", required=True, help="NAME@VERSION (a bare name: newest).")
@click.option("--from", "start", required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "end", required=True, help="Last day, YYYY-MM-DD (inclusive).")
@click.option("--as-of", help="Read silver as of a Delta version (an integer) or a timestamp.")
@click.option("--dry-run", is_flag=True, help="Count units (and judge tokens); write nothing.")
@click.option("--sample", type=float, help="Judge only this fraction of units (0..1).")
@click.option("--cap", type=int, help="Judge at most this many units per day.")
@click.option("--rate", type=float, help="Judge calls per second at most.")
@click.option("--publish", is_flag=True, help="Also publish the scores to agent.evaluations.v1.")
def evaluate(
    key: str,
    start: str,
    end: str,
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

    settings = Settings.from_env()
    spark = get_spark(settings, app_name="afl-evaluate")
    result = backfill(
        spark,
        settings,
        key,
        _day(start),
        _day(end),
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
            _day(start),
            _day(end),
        )
        click.echo(f"published {sent:,} evaluation events")


@cli.group()
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
@click.option("--date", "day", required=True)
def evaluators_compare(name: str, from_version: int, to_version: int, day: str) -> None:
    """How many units changed label between two versions on a day, with examples."""
    from pipelines.evaluators.compare import compare_versions
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    c = compare_versions(
        get_spark(settings, app_name="afl-compare"),
        settings,
        name,
        from_version,
        to_version,
        _day(day),
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


def _end_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO-8601 time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@cli.command()
@click.argument("query")
@click.option("--limit", default=200, show_default=True, help="Rows to print at most.")
def sql(query: str, limit: int) -> None:
    """Run SQL on the lake's tables by name (bronze.*, silver.*, gold.*, ops.*, legacy.*)."""
    from pyspark.errors import AnalysisException, ParseException

    from pipelines.spark.session import get_spark
    from pipelines.spark.tables import register_existing

    settings = Settings.from_env()
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


def format_rows(columns: list[str], rows: list[tuple[object, ...]]) -> str:
    """A plain aligned text table, like psql prints."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "-+-".join("-" * w for w in widths)
    body = [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, rule, *body])


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray):
        return value[:40].decode(errors="replace") + ("..." if len(value) > 40 else "")
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@cli.command()
@click.option("--events", default=20_000, show_default=True, help="Agent events to produce.")
@click.option("--fresh", is_flag=True, help="Clear local state first (caches are kept).")
def demo(events: int, fresh: bool) -> None:
    """Run the whole story end to end on the local defaults."""
    from pipelines.demo import run_demo

    run_demo(Settings.from_env(), events=events, progress=_echo, fresh=fresh)


def main(argv: list[str] | None = None) -> int:
    """Entry point: usage mistakes and AflErrors become one line on stderr."""
    try:
        cli.main(args=argv, prog_name="afl", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return 0
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "afl"
        _echo(f"afl: {exc.format_message()} (see '{where} --help')")
        return 2
    except click.ClickException as exc:
        _echo(f"afl: {exc.format_message()}")
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        _echo("afl: aborted")
        return 130
    except AflError as exc:
        _echo(f"afl: {exc}")
        return 1
    except KeyboardInterrupt:
        _echo("afl: interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
