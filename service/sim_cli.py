"""The simulator and scenario doors of the command line: `orderhub simulator` serves a
scenario as every platform (batch, or live with pushes), `orderhub scenario generate` writes
a day, a history or an after-sales day with its oracle."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from engine.errors import OrderhubError
from service.cli_common import fail
from service.console import console
from service.scenarios import load_scenario

scenario_app = typer.Typer(help="Order-intake scenarios (the project's own generator).")


def simulator(
    scenario: Path = typer.Option(..., help="scenario file to serve"),
    port: int = typer.Option(8900, help="port on 127.0.0.1"),
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    faults: Path | None = typer.Option(
        None, help="faults to inject (JSON or YAML); change them at /_sim/faults"
    ),
    live: float | None = typer.Option(
        None, "--live", metavar="MINUTES", help="the day arrives from now on over MINUTES"
    ),
    push_to: str | None = typer.Option(
        None, help="with --live: push orders to URL/h5, /youzan, /douyin (e.g. …:8000/hooks)"
    ),
    push_share: float = typer.Option(0.3, min=0, max=1, help="with --push-to: share pushed"),
) -> None:
    """Serve a scenario as Youzan, Douyin, H5, ERP, SF, ZTO and WeCom; print settings for it.

    With --live MINUTES its day is moved onto the next MINUTES minutes: an order shows in
    its channel's list API once its time has come, and with --push-to a share of the paid
    orders is pushed as they are paid (the rest waits for a pull)."""
    import uvicorn

    from connectors.simulator.app import create_app
    from connectors.simulator.faults import load_plan
    from connectors.simulator.server import fast_server_options, settings_for
    from connectors.simulator.state import SimOptions
    from engine.settings import render_toml

    if push_to is not None and live is None:
        typer.echo("error: --push-to needs --live MINUTES (a batch day pushes nothing)", err=True)
        raise typer.Exit(2)
    if live is not None and live <= 0:
        typer.echo("error: --live takes the minutes the day lasts, above 0", err=True)
        raise typer.Exit(2)
    options = SimOptions(live_minutes=live, push_url=push_to, push_share=push_share)
    try:
        data = load_scenario(scenario)
        served = create_app(data, options=options, faults=load_plan(faults) if faults else None)
    except OrderhubError as exc:
        fail(exc)
    typer.echo("# orderhub.toml for this simulator (its test credentials):")
    typer.echo(render_toml(settings_for(f"http://{host}:{port}")), nl=True)
    sys.stdout.flush()
    uvicorn.run(
        served,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=75,  # like the platforms' gateways, as `run --scenario` serves it
        **fast_server_options(),
    )


@scenario_app.command("generate")
def scenario_generate(
    orders: int | None = typer.Option(None, min=1, help="orders in the day (--kind day)"),
    seed: int = typer.Option(..., help="random seed (same seed, same data)"),
    output: Path = typer.Option(..., "-o", "--output", help="file to write"),
    kind: str = typer.Option(
        "day",
        help="day (one day to run), history (days to learn from) or after_sales (a day of "
        "orders and the next day's after-sales requests)",
    ),
    days: int = typer.Option(90, min=21, help="days of history (--kind history)"),
    orders_per_day: int = typer.Option(4000, min=20, help="orders a day (--kind history)"),
    flat: bool = typer.Option(False, help="a history without a planted hot SKU"),
) -> None:
    """Generate a day of orders with its oracle, or a history with its expected findings.

    A history writes OUTPUT (the manifest: promotions, expected findings) and beside it one
    CSV export per channel, the ERP stock by day, the ad spend and the promotions.
    """
    if kind == "history":
        from connectors.simulator.history import generate_history, write_history

        try:
            history = generate_history(days, orders_per_day, seed, flat=flat)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        for name, file in write_history(history, output).items():
            console.print(f"wrote {file} ({name})")
        return
    if kind not in ("day", "after_sales"):
        typer.echo(f"error: --kind {kind!r}: use day, history or after_sales", err=True)
        raise typer.Exit(1)
    if orders is None:
        typer.echo("error: a day needs --orders N", err=True)
        raise typer.Exit(1)
    if kind == "after_sales":
        from connectors.simulator.aftersales_gen import generate_after_sales
        from connectors.simulator.generator import write_scenario

        write_scenario(generate_after_sales(orders, seed), output)
        console.print(f"wrote {output}")
        return
    from connectors.simulator.generator import generate_scenario, write_scenario

    write_scenario(generate_scenario(orders, seed), output)
    console.print(f"wrote {output}")
