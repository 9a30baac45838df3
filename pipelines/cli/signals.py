"""`afl signals`: the rules that turn feedback into control commands while it matters."""

from __future__ import annotations

import threading

import click

from pipelines.cli.output import progress
from pipelines.settings import Settings


@click.group()
def signals() -> None:
    """Rules over silver that degrade, pause, restore and resume on their own."""


@signals.command("rules")
def rules() -> None:
    """The rules in force (AFL_SIGNAL_RULES, default: the shipped file), one line each."""
    from pipelines.signals.rules import load_rules

    for rule in load_rules(Settings.from_env().signal_rules):
        click.echo(rule.describe())


@signals.command("run")
@click.option("--available-now", is_flag=True, help="Take what silver holds now, then stop.")
@click.option("--trigger", default="2 seconds", show_default=True,
              help="How often a batch may start (continuous mode).")  # fmt: skip
def run(available_now: bool, trigger: str) -> None:
    """Run the rules (until Ctrl-C/SIGTERM, or until caught up with --available-now)."""
    from pipelines.ingest.stream import stop_on_signals
    from pipelines.signals.job import SignalOptions, run_signals
    from pipelines.signals.rules import load_rules
    from pipelines.spark.session import get_spark

    settings = Settings.from_env()
    load_rules(settings.signal_rules)  # a bad file is one line, before Spark starts
    options = SignalOptions(available_now=available_now, trigger_interval=trigger)
    with stop_on_signals(threading.Event()) as stop:
        spark = get_spark(settings, app_name="afl-signals")
        published = run_signals(spark, settings, options, stop_event=stop, progress=progress)
    click.echo(f"signals stopped: {published} command(s) published")
