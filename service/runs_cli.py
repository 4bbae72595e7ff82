"""`orderhub runs …`: runs that stopped on an error, and sending them back for another try."""

from __future__ import annotations

import typer

from service import runs
from service.cli_common import AS, DB, JSON, call_as, print_json

runs_app = typer.Typer(help="Runs that stopped on an error: list, retry.", no_args_is_help=True)


@runs_app.command("list")
def list_runs(
    status: str | None = typer.Option(None, help="failed or retry (default: both)"),
    workflow: str | None = typer.Option(None, help="only this workflow id"),
    limit: int = typer.Option(200, min=1, help="at most this many, newest first"),
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """Runs that stopped on an error: `retry` ones the next run tries again, `failed` ones
    wait for a person."""
    stopped = call_as(db, as_, lambda s, a: runs.list_stopped(s, a, status, workflow, limit))
    if as_json:
        print_json([run.as_json() for run in stopped])
        return
    if not stopped:
        typer.echo("no run stopped on an error")
    for run in stopped:
        typer.echo(
            f"{run.run_id:>7} {run.status:<6} {run.ref:<28} at {run.node or '-':<12} "
            f"try {run.attempt}  {run.error}"
        )


@runs_app.command("retry")
def retry(
    run_ids: list[int] = typer.Argument(..., help="run ids (orderhub runs list shows them)"),
    reason: str = typer.Option(..., "--reason", help="why (recorded in the audit log)"),
    db: str | None = DB,
    as_: str = AS,
) -> None:
    """Send stopped runs back: the next `orderhub run` of their version tries each once more
    from the node where it stopped, without repeating an effect."""
    sent = call_as(db, as_, lambda s, a: runs.retry(s, a, run_ids, reason))
    for run in sent:
        typer.echo(f"run {run.run_id} ({run.ref}) goes again from {run.node}")
