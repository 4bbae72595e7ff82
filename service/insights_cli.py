"""`orderhub insights …` and `orderhub import …`: the insights' doors on the command line.

Thin: each command reads the `[insights]` settings, calls one use case of
`service.insights` as the `--as` actor and prints a table (or `--json`).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from engine.errors import OrderhubError
from engine.settings import load_settings
from service.cli_common import AS, DB, JSON, call_as, print_json
from service.console import console
from service.insights.channels import channel_health
from service.insights.customers import customer_groups
from service.insights.facts import refresh
from service.insights.forecast import outbound_forecast
from service.insights.hot_skus import check_hot_skus, hot_skus
from service.insights.imports import import_orders, import_stock
from service.insights.inputs import (
    InsightSettings,
    insight_settings,
    read_ad_spend,
    read_promotions,
)
from service.insights.summary import summary_markdown

insights_app = typer.Typer(
    help="Insights: channel health, hot SKUs, customer groups, tomorrow's outbound.",
    no_args_is_help=True,
)
import_app = typer.Typer(
    help="Load a brand's past: back-office order exports and ERP stock (no workflow runs).",
    no_args_is_help=True,
)
CONFIG = typer.Option(None, "--config", help="settings file (default orderhub.toml)")
TODAY = typer.Option(
    None, "--today", formats=["%Y-%m-%d"], help="take this day as today (default: the clock)"
)


@insights_app.command("channels")
def channels(
    days: int = typer.Option(30, min=1, help="length of the period, ending yesterday"),
    ad_spend: Path | None = typer.Option(None, help="CSV day,channel,amount (else [insights])"),
    today: datetime | None = TODAY,
    config: Path | None = CONFIG,
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """Each channel's funnel, payment completion, basket and cost per order, vs. before."""
    cfg = _settings(config)

    def use(store: Any, actor: Any) -> Any:
        spend = read_ad_spend(ad_spend or cfg.ad_spend)
        return channel_health(
            store, actor, key=cfg.require_key(), days=days, today=_day(today), ad_spend=spend
        )

    report = call_as(db, as_, use)
    if as_json:
        print_json(report.as_dict())
        return
    table = Table(title=f"channels {report.since} – {report.until} (vs. the {days} days before)")
    for column in ("channel", "created", "paid", "shipped", "returned", "completion",
                   "basket", "return rate", "cost/order", "paid vs. before"):  # fmt: skip
        table.add_column(column, justify="left" if column == "channel" else "right")
    for row in report.channels:
        c = row.current
        table.add_row(
            row.channel,
            str(c.created),
            str(c.paid),
            str(c.shipped),
            str(c.returned),
            _pct(c.payment_completion),
            _money(c.average_basket),
            _pct(c.return_rate),
            _money(c.cost_per_order),
            _change(row.change("paid")),
        )
    console.print(table)


@insights_app.command("hot-skus")
def hot_skus_command(
    alert: bool = typer.Option(
        False, "--alert", help="record episodes and send one alert per new episode (daily job)"
    ),
    today: datetime | None = TODAY,
    config: Path | None = CONFIG,
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """SKUs selling faster every day with stock for fewer days than the rule allows."""
    cfg = _settings(config)
    if alert:
        opened = call_as(
            db, as_, lambda s, a: check_hot_skus(s, a, key=cfg.require_key(), today=_day(today))
        )
        if as_json:
            print_json([e.as_dict() for e in opened])
        else:
            for e in opened:
                f = e.figures
                console.print(
                    f"alert: {e.sku} from {e.started_on}: {f['on_hand']} on hand, "
                    f"{f['cover_days']} days of cover, reorder {f['reorder_qty']}"
                )
            console.print(f"{len(opened)} new episode(s)")
        return
    report = call_as(db, as_, lambda s, a: hot_skus(s, a, key=cfg.require_key(), today=_day(today)))
    if as_json:
        print_json(report.as_dict())
        return
    p = report.params
    table = Table(
        title=f"hot SKUs on {report.day}: sales +{p.hot_sku_growth_pct:g}% a day for "
        f"{p.hot_sku_streak_days} days, cover < {p.hot_sku_cover_days:g} days ({p.source})"
    )
    for column in ("sku", "units a day", "growth", "on hand", "cover (days)", "reorder"):
        table.add_column(column, justify="left" if column == "sku" else "right")
    for h in report.hot:
        table.add_row(
            h.sku,
            " → ".join(map(str, h.sales)),
            " ".join(f"+{g:.0f}%" for g in h.growth_pct),
            str(h.on_hand),
            f"{h.cover_days:.1f}",
            str(h.reorder_qty),
        )
    console.print(table)
    for e in report.open_episodes:
        console.print(f"open episode: {e.sku} since {e.started_on}")


@insights_app.command("customers")
def customers(
    days: int = typer.Option(90, min=7, help="length of the period, ending yesterday"),
    groups: int = typer.Option(5, min=2, max=12, help="how many groups"),
    members: int = typer.Option(0, min=0, help="list this many members of each group"),
    stability: bool = typer.Option(False, help="compare with the grouping a week earlier"),
    today: datetime | None = TODAY,
    config: Path | None = CONFIG,
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """Customer groups by order frequency, basket, return rate and recency (no phones)."""
    cfg = _settings(config)
    report = call_as(
        db,
        as_,
        lambda s, a: customer_groups(
            s,
            a,
            key=cfg.require_key(),
            days=days,
            today=_day(today),
            members=members,
            stability=stability,
            groups=groups,
        ),
    )
    if as_json:
        print_json(report.as_dict())
        return
    table = Table(title=f"{report.customers} customers, {report.since} – {report.until}")
    for column in ("group", "customers", "orders", "basket", "returned", "days since last"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for g in report.groups:
        table.add_row(
            g.name,
            str(g.customers),
            f"{g.orders:.1f}",
            f"{g.average_basket:.2f}",
            _pct(g.return_rate),
            f"{g.days_since_last:.0f}",
        )
    console.print(table)
    for g in report.groups:
        for m in g.members:
            console.print(f"  {g.name}: {m.customer_key[:12]} {m.orders} orders {m.phone or ''}")
    if report.stability is not None:
        console.print(f"week-on-week agreement (adjusted Rand index): {report.stability}")


@insights_app.command("forecast")
def forecast(
    promotions: Path | None = typer.Option(None, help="CSV day,name (else [insights])"),
    today: datetime | None = TODAY,
    config: Path | None = CONFIG,
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """Tomorrow's orders to pack per warehouse and hour band, and the packers for them."""
    cfg = _settings(config)
    report = call_as(
        db,
        as_,
        lambda s, a: outbound_forecast(
            s,
            a,
            key=cfg.require_key(),
            today=_day(today),
            promotions=read_promotions(promotions or cfg.promotions),
        ),
    )
    if as_json:
        print_json(report.as_dict())
        return
    promo = f" — promotion: {report.promotion}" if report.promotion else ""
    table = Table(title=f"outbound on {report.day}{promo} ({report.method})")
    table.add_column("warehouse")
    table.add_column("orders", justify="right")
    for band in report.warehouses[0].bands if report.warehouses else []:
        table.add_column(f"{band.hours} orders / packers", justify="right")
    for w in report.warehouses:
        table.add_row(
            w.warehouse, f"{w.orders:.0f}", *[f"{b.orders:.0f} / {b.packers}" for b in w.bands]
        )
    console.print(table)
    console.print(report.note)


@insights_app.command("summary")
def summary(
    promotions: Path | None = typer.Option(None, help="CSV day,name (else [insights])"),
    today: datetime | None = TODAY,
    config: Path | None = CONFIG,
    db: str | None = DB,
    as_: str = AS,
) -> None:
    """The morning WeCom summary's insights part, as the markdown it sends."""
    cfg = _settings(config)
    text = call_as(
        db,
        as_,
        lambda s, a: summary_markdown(
            s,
            a,
            key=cfg.require_key(),
            today=_day(today),
            promotions=read_promotions(promotions or cfg.promotions),
        ),
    )
    typer.echo(text)


@import_app.command("orders")
def import_orders_command(
    file: Path = typer.Argument(..., help="the channel's back-office export (CSV, UTF-8)"),
    channel: str = typer.Option(..., help="the channel it came from: youzan, douyin, h5…"),
    config: Path | None = CONFIG,
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """Store a channel's past orders (one row per order line) without running any."""
    cfg = _settings(config)

    def use(store: Any, actor: Any) -> Any:
        result = import_orders(store, actor, file, channel, key=cfg.key)
        indexed = refresh(store, cfg.key).indexed if cfg.key else None
        return result, indexed

    result, indexed = call_as(db, as_, use)
    if as_json:
        print_json({**result.as_dict(), "indexed_for_insights": indexed})
        return
    console.print(
        f"{file}: {result.orders} {channel} orders ({result.lines} lines) stored, "
        f"{result.runs_started} workflow runs started"
    )
    if indexed is not None:
        console.print(f"insight facts up to date ({indexed} orders indexed after the import)")


@import_app.command("stock")
def import_stock_command(
    file: Path = typer.Argument(..., help="CSV day,sku,warehouse,on_hand (end of each day)"),
    db: str | None = DB,
    as_: str = AS,
) -> None:
    """Store the ERP's end-of-day stock by SKU and warehouse (for the hot-SKU rule)."""
    written = call_as(db, as_, lambda s, a: import_stock(s, a, file))
    console.print(f"{file}: {written} stock rows stored")


def _settings(config: Path | None) -> InsightSettings:
    try:
        return insight_settings(load_settings(str(config) if config else None))
    except OrderhubError as exc:  # a bad settings file or [insights] section
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _money(value: Any) -> str:
    return "–" if value is None else f"{value:.2f}"


def _change(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1%}"
