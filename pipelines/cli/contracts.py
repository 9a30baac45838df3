"""`afl contracts` and `afl produce`: the event contracts, and seeded traffic under them."""

from __future__ import annotations

import json
from datetime import datetime

import click

from pipelines.cli.output import progress
from pipelines.cli.params import MOMENT, now_to_the_minute
from pipelines.errors import AflError
from pipelines.settings import Settings


@click.group()
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


@click.command()
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
@click.option("--end-time", type=MOMENT, help="Latest event time (default: now, to the minute).")
@click.option("--manifest", type=click.Path(dir_okay=False), help="Write expected counts here.")
@click.option("--dry-run", is_flag=True, help="Generate and count, send nothing.")
def produce(
    events: int,
    rate: float,
    days_back: float,
    schema_version: str,
    bad_fraction: float,
    seed: int,
    end_time: datetime | None,
    manifest: str | None,
    dry_run: bool,
) -> None:
    """Send realistic, seeded agent traffic (with a fraction of bad records) to the topics."""
    from pipelines.producer.sdk import AgentEventProducer
    from pipelines.producer.traffic import TrafficGenerator, send_traffic

    try:
        generator = TrafficGenerator(
            seed=seed,
            events=events,
            end_time=end_time or now_to_the_minute(),
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
        progress(f"producing {events:,} records to {settings.kafka_bootstrap_servers} ...")
        with AgentEventProducer(settings) as producer:
            result = send_traffic(producer, generator, rate=rate or None, progress=progress)
            metrics = producer.metrics.snapshot()
        p50, p95 = metrics["delivery_latency_p50_ms"], metrics["delivery_latency_p95_ms"]
        progress(
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
