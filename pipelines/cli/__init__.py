"""The ``afl`` command: thin wrappers over the library, one-line errors, no stack traces.

One module per group of commands; shared parameter types in ``params``, printing in
``output``. Each command imports the library it calls inside its body, so `afl --help`
and the quick commands start without Spark.
"""

from __future__ import annotations

import click

from pipelines.cli import (
    analytics,
    contracts,
    control,
    governance,
    infra,
    lake,
    legacy,
    signals,
    stream,
)
from pipelines.cli.output import progress
from pipelines.errors import AflError

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="agent-feedback-lakehouse", prog_name="afl")
def cli() -> None:
    """Agent Feedback Lakehouse: Kafka -> Spark -> Delta, with legacy parity."""


for command in (
    infra.infra,
    infra.topics,
    contracts.contracts,
    contracts.produce,
    infra.spark,
    stream.stream,
    stream.verify,
    stream.quarantine,
    legacy.legacy,
    legacy.parity,
    analytics.quality,
    analytics.gold,
    analytics.evaluate,
    analytics.evaluators,
    governance.retention,
    governance.erase,
    control.control,
    signals.signals,
    lake.sql,
    lake.demo,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Entry point: usage mistakes and AflErrors become one line on stderr."""
    try:
        cli.main(args=argv, prog_name="afl", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return 0
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "afl"
        progress(f"afl: {exc.format_message()} (see '{where} --help')")
        return 2
    except click.ClickException as exc:
        progress(f"afl: {exc.format_message()}")
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        progress("afl: aborted")
        return 130
    except AflError as exc:
        progress(f"afl: {exc}")
        return 1
    except KeyboardInterrupt:
        progress("afl: interrupted")
        return 130
    return 0
