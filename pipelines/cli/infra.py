"""`afl infra`, `afl topics`, `afl spark`: the local broker, the registry's topics, Spark."""

from __future__ import annotations

import sys

import click

from pipelines.cli.output import progress
from pipelines.settings import Settings


@click.group()
def infra() -> None:
    """The local Kafka broker (KRaft, single node, from Maven Central artifacts)."""


@infra.command("fetch")
def infra_fetch() -> None:
    """Resolve the broker's jars from Maven Central into the cache (idempotent)."""
    from pipelines.local.broker import LocalBroker

    libs = LocalBroker(Settings.from_env()).fetch(progress=progress)
    click.echo(f"Kafka broker artifacts ready in {libs}")


@infra.command("up")
def infra_up() -> None:
    """Start the broker and wait until it answers."""
    from pipelines.local.broker import LocalBroker

    broker = LocalBroker(Settings.from_env())
    if broker.up(progress=progress):
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


@click.group()
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


@click.group()
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
