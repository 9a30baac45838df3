"""`afl control`: the kill switch. Pause, resume, degrade or restore an agent, a tool or a
tenant without a redeploy; every command is an event on the compacted control topic that
the apps' ``ControlState`` reads and the lake lands in silver.controls."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta

import click

from pipelines.cli.params import DURATION
from pipelines.producer.control import COMMANDS, EVERY_TENANT, TARGET_KINDS
from pipelines.settings import Settings


@click.group()
def control() -> None:
    """Pause, resume, degrade or restore agents, tools and tenants; see what is in force."""


def _command(name: str, undoes: str | None) -> click.Command:
    verb = f"Undo a {undoes}" if undoes else f"{name.capitalize()} a target"

    @click.argument("target_kind", type=click.Choice(TARGET_KINDS))
    @click.argument("target")
    @click.option("--reason", required=True, help="Why, for the audit trail and the apps' errors.")
    @click.option("--tenant", default=EVERY_TENANT, show_default=True,
                  help="The tenant it applies to ('*': every tenant).")  # fmt: skip
    @click.option("--expires-in", type=DURATION, default=None,
                  help="Stop applying after this long (30m, 2h, 7d).")  # fmt: skip
    @click.option("--issuer", default=None, help="Who issues it (default: operator:<login>).")
    def issue(
        target_kind: str,
        target: str,
        reason: str,
        tenant: str,
        expires_in: timedelta | None,
        issuer: str | None,
    ) -> None:
        from pipelines.producer.control import control_event
        from pipelines.producer.sdk import AgentEventProducer

        event = control_event(
            name,
            target_kind,
            target,
            reason=reason,
            issuer=issuer or f"operator:{getpass.getuser()}",
            tenant_id=tenant,
            expires_at=datetime.now(UTC) + expires_in if expires_in else None,
        )
        with AgentEventProducer(Settings.from_env()) as producer:
            producer.emit(event)
        click.echo(f"{name} {target_kind} {target} ({tenant}): published {event['event_id']}")

    issue.__doc__ = f"{verb} (TARGET_KIND: agent, tool or tenant)."
    return control.command(name)(issue)


for _name, _undo in COMMANDS.items():
    _command(_name, None)
    _command(_undo, _name)


@control.command("status")
@click.option("--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="Seconds to wait for the control topic.")  # fmt: skip
def status(timeout: float) -> None:
    """The latest command per target, as the apps see it (no Spark)."""
    from pipelines.producer.control import ControlState

    with ControlState(Settings.from_env()) as state:
        state.wait_until_current(timeout)
        now = datetime.now(UTC)
        commands = state.commands()
    if not commands:
        click.echo("no control commands")
    for command in commands:
        in_force = "in force" if command.applies(now) else "lifted"
        click.echo(f"{in_force:8}  {command.describe()}")
