"""`orderhub returns …`: the warehouse's expected returns, scanning parcels in, inspection.

Scanning and inspecting wake the request's run; with the systems' settings complete (an
orderhub.toml with their credentials, as `orderhub queue decide` reads) it goes on in the
same command — a quick return is refunded before the scan returns — else the next
`orderhub run workflows/after_sales.yaml` continues it.
"""

from __future__ import annotations

from typing import Any

import typer

from engine.errors import OrderhubError
from service import returns
from service.cli_common import AS, DB, JSON, call_as, print_json, settings
from service.intake import check_systems

returns_app = typer.Typer(
    help="Returned parcels (after-sales): list, scan, inspect.", no_args_is_help=True
)


@returns_app.command("list")
def list_returns(
    warehouse: str | None = typer.Option(None, help="only this warehouse"),
    status: str = typer.Option("expected", help="expected, scanned, inspected or all"),
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """The parcels a warehouse expects back (its receiving schedule), or those scanned."""
    wanted = None if status == "all" else status
    found = call_as(db, as_, lambda s, a: returns.expected_returns(s, a, warehouse, wanted))
    if as_json:
        print_json([view.__dict__ for view in found])
        return
    if not found:
        typer.echo("no returns")
    for view in found:
        typer.echo(_line(view))


@returns_app.command("scan")
def scan(
    ref: str = typer.Argument(..., help="the return tracking number, or channel:aftersale_id"),
    db: str | None = DB,
    as_: str = AS,
) -> None:
    """Scan a returned parcel in; its after-sales run goes on (now, with the settings'
    systems; else at the next run of after_sales)."""
    systems = _systems()
    view = call_as(db, as_, lambda s, a: returns.scan(s, a, ref, systems=systems))
    typer.echo(_line(view))
    typer.echo("next: orderhub returns inspect " + view.ref if view.inspect else _next(view))


@returns_app.command("inspect")
def inspect(
    ref: str = typer.Argument(..., help="the return tracking number, or channel:aftersale_id"),
    result: str = typer.Option(
        ..., "--result", help="passed, damaged, serial_mismatch or missing_parts"
    ),
    note: str = typer.Option("", "--note", help="what was found (needed unless passed)"),
    photo: list[str] = typer.Option([], "--photo", help="a photo's file name (repeatable)"),
    serial: list[str] = typer.Option([], "--serial", help="a serial read off a unit (repeatable)"),
    db: str | None = DB,
    as_: str = AS,
) -> None:
    """Record a scanned parcel's inspection; the refund, refusal or a person follows."""
    systems = _systems()
    view = call_as(
        db,
        as_,
        lambda s, a: returns.inspect(s, a, ref, result, note, photo, serial, systems=systems),
    )
    typer.echo(_line(view))
    typer.echo(_next(view))


@returns_app.command("figures")
def figures(db: str | None = DB, as_: str = AS) -> None:
    """Cycle time per channel and day, return rates per SKU and channel, inspection failures
    (JSON)."""
    from service.after_sales_figures import after_sales_figures

    print_json(call_as(db, as_, after_sales_figures))


def _line(view: returns.ReturnView) -> str:
    inspect = " inspect" if view.inspect else ""
    result = f" {view.result}" if view.result else ""
    return (
        f"{view.ref:<26} {view.status:<9}{result} {view.warehouse:<6} "
        f"{view.tracking_no or '-':<16} {view.original} {view.buyer} {view.phone}{inspect}"
    )


def _systems() -> dict[str, dict[str, Any]] | None:
    """The settings' systems when they are complete (the woken run goes on now), else None."""
    try:
        found = settings().systems
        check_systems(found)
    except OrderhubError:
        return None
    return found


def _next(view: returns.ReturnView) -> str:
    if view.woke_run is None:
        return "no run waited for it; its request goes on when its run next reaches it"
    if view.continued:
        return f"run {view.woke_run} went on: the request is now {view.state}"
    return f"run {view.woke_run} goes on at the next: orderhub run workflows/after_sales.yaml"
