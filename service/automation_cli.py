"""`orderhub outbox …` and `orderhub scheduler`: the doors of what runs unattended."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import asdict
from pathlib import Path

import typer

from engine.errors import LeaseHeld, OrderhubError
from engine.settings import load_settings
from engine.store import Store
from service.cli_common import (
    AS,
    DB,
    JSON,
    call_as,
    database_url,
    fail,
    opened,
    print_json,
    settings,
)
from service.intake import check_systems
from service.scheduler import Scheduler, ScheduleSettings, schedule_settings
from service.sender import outbox_status, report_line, send_outbox, status_line

outbox_app = typer.Typer(
    help="Notifications for the team's WeCom bot: send what is due, show where it stands.",
    no_args_is_help=True,
)


@outbox_app.command("send")
def send(db: str | None = DB, as_: str = AS) -> None:
    """Send the due notifications once: most urgent first, within the bot's messages a minute
    ([wecom] per_minute, 20), merged per kind when more are due than fit. The scheduler does
    this every few seconds; this is for a person who wants it now. Needs admin or
    ops_manager."""
    report = call_as(db, as_, lambda s, a: send_outbox(s, a, settings().systems))
    typer.echo(report_line(report))
    if report.failed or report.unsure:
        raise typer.Exit(1)


@outbox_app.command("status")
def status(db: str | None = DB, as_: str = AS, as_json: bool = JSON) -> None:
    """Notifications by state (pending, sent, failed, unsure), the oldest waiting one and the
    bot messages of the last minute."""
    now = call_as(db, as_, lambda s, a: outbox_status(s, a, settings().systems))
    if as_json:
        print_json(asdict(now))
        return
    typer.echo(status_line(now))


def scheduler(
    standby: bool = typer.Option(
        False, "--standby", help="if another scheduler runs, wait and take over when it dies"
    ),
    db: str | None = DB,
    config: Path | None = typer.Option(None, help="settings file (default orderhub.toml)"),
) -> None:
    """Run unattended until stopped (Ctrl-C or SIGTERM): each active workflow's scheduled
    pulls (its schedule triggers; activations and rollbacks are followed without a restart),
    the outbox sender every few seconds, pushes a stopped API left, and the morning summary
    (summary_at and timezone in the scheduler section). One scheduler per database: a
    second one refuses to start, unless --standby."""
    try:
        read = load_settings(str(config) if config else None)
        url = database_url(db, read)
        check_systems(read.systems)
        plan = schedule_settings(read.scheduler)
    except OrderhubError as exc:
        fail(exc)
    with opened(url) as store:
        try:
            asyncio.run(_schedule(store, read.systems, plan, standby))
        except LeaseHeld as held:
            fail(
                LeaseHeld(
                    f"{held}: one scheduler per database; stop it first, or start this one "
                    "with --standby to take over when it stops",
                    holder=held.holder,
                    since=held.since,
                )
            )


async def _schedule(store: Store, systems: dict, plan: ScheduleSettings, standby: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = Scheduler(store, systems, plan)

    def waiting(held: LeaseHeld) -> None:
        typer.echo(f"standing by: {held}; taking over when it stops", err=True)

    typer.echo(f"scheduler: {runner.holder}; Ctrl-C stops it", err=True)
    await runner.run(stop, standby=standby, on_wait=waiting)
    typer.echo("scheduler stopped", err=True)
