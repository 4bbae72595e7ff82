"""`orderhub outbox …` and `orderhub scheduler`: the doors of what runs unattended."""

from __future__ import annotations

from dataclasses import asdict

import typer

from service.cli_common import AS, DB, JSON, call_as, print_json, settings
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
