"""The ``afl`` command: thin wrappers over the library, one-line errors, no stack traces."""

from __future__ import annotations

import sys

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


@cli.command()
@click.option("--available-now", is_flag=True, help="Drain what is there, then exit.")
@click.option("--trigger-interval", default="1 second", show_default=True)
def stream(available_now: bool, trigger_interval: str) -> None:
    """Stream the agent topics into Delta (continuous unless --available-now)."""
    from jobs.stream_ingest import main as stream_main

    stream_main(available_now=available_now, trigger_interval=trigger_interval)


@cli.command()
@click.option("--events", default=1000, show_default=True, help="Smoke events to produce.")
def demo(events: int) -> None:
    """Run the smoke path end to end on the local defaults."""
    from pipelines.demo import run_demo

    run_demo(Settings.from_env(), events=events, progress=_echo)


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
