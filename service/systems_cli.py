"""`orderhub systems …`: the external systems' breakers, and opening or closing one by hand."""

from __future__ import annotations

import typer

from service import systems
from service.cli_common import AS, DB, JSON, call_as, print_json

systems_app = typer.Typer(
    help="External systems: breaker state and waiting orders; open or close a breaker.",
    invoke_without_command=True,
)
REASON = typer.Option(..., "--reason", help="why (recorded in the audit log)")


@systems_app.callback()
def list_systems(
    ctx: typer.Context, db: str | None = DB, as_: str = AS, as_json: bool = JSON
) -> None:
    """Every system's breaker: state, why, since when, next probe, orders waiting for it."""
    if ctx.invoked_subcommand is not None:
        return
    views = call_as(db, as_, systems.list_systems)
    if as_json:
        print_json([view.as_json() for view in views])
        return
    for view in views:
        line = f"{view.system:<7} {view.state:<9}"
        if view.state != "closed":
            since = f"{view.since:%Y-%m-%d %H:%M:%S} UTC" if view.since else "?"
            how = f" by hand ({view.changed_by})" if view.by_hand else ""
            line += f" since {since}{how}"
            if view.retry_at:
                line += f", next probe {view.retry_at:%H:%M:%S} UTC"
            if view.reason:
                line += f": {view.reason}"
        line += f"  {view.waiting} orders waiting"
        typer.echo(line)
        if view.waiting_refs:
            more = (
                f" … and {view.waiting - len(view.waiting_refs)} more"
                if view.waiting > len(view.waiting_refs)
                else ""
            )
            typer.echo(f"        waiting: {', '.join(view.waiting_refs)}{more}")


@systems_app.command("open")
def open_breaker(system: str, reason: str = REASON, db: str | None = DB, as_: str = AS) -> None:
    """Open SYSTEM's breaker by hand: calls to it stop at once in every process, orders take
    their backup route or wait, until someone closes it (ops_manager, admin; audited)."""
    view = call_as(db, as_, lambda s, a: systems.set_breaker(s, a, system, "open", reason))
    typer.echo(f"{view.system}: {view.state} (by hand); {view.waiting} orders waiting")


@systems_app.command("close")
def close_breaker(system: str, reason: str = REASON, db: str | None = DB, as_: str = AS) -> None:
    """Close SYSTEM's breaker by hand: calls go again, and waiting orders go on at the next
    run (ops_manager, admin; audited)."""
    view = call_as(db, as_, lambda s, a: systems.set_breaker(s, a, system, "close", reason))
    typer.echo(f"{view.system}: {view.state}; {view.waiting} orders waiting to go on")
