"""How the CLI shows things: summary tables, node tables, problems, progress."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from service.intake import IntakeSummary

console = Console()
errors = Console(stderr=True)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def summary_table(summary: IntakeSummary, report: dict[str, Any]) -> Table:
    table = Table(title="orderhub run", show_lines=False)
    table.add_column("outcome")
    table.add_column("orders", justify="right")
    for outcome, count in sorted(report["outcome_totals"].items(), key=lambda kv: -kv[1]):
        table.add_row(outcome, str(count))
    table.add_section()
    table.add_row("orders in store", str(report["orders_total"]))
    table.add_row("pulled this run", str(summary.pulled))
    table.add_row("new or changed", str(summary.changed))
    table.add_row("runs finished", str(summary.runs))
    table.add_row("waybills", str(len(report["waybills"])))
    table.add_row("purchase alerts", ", ".join(report["purchase_alerts"]) or "-")
    table.add_row("seconds", f"{summary.seconds:.2f}")
    table.add_row("orders/s", f"{summary.orders_per_second:.0f}")
    return table


def nodes_table(described: list[dict[str, Any]]) -> Table:
    table = Table(
        title="node types",
        show_lines=True,
        caption="(end): the run may end on this outcome when the workflow routes it nowhere; "
        "every other outcome needs a route or `next`",
    )
    for column in ("type", "summary", "outcomes", "params"):
        table.add_column(column)
    for d in described:
        params = "\n".join(
            f"{name}: {_param_text(schema, name in d['required'], d['shapes'][name])}"
            for name, schema in d["params"].items()
        )
        kind = " (source)" if d["source"] else " (side effects)" if d["side_effects"] else ""
        outcomes = ", ".join(o + (" (end)" if o in d["terminal"] else "") for o in d["outcomes"])
        table.add_row(d["type"] + kind, escape(d["summary"]), outcomes, escape(params))
    return table


def fields_table(fields: list[dict[str, Any]]) -> Table:
    table = Table(
        title="order fields an expression can read",
        caption="expressions also read params.<name> (the workflow's params) and "
        "state.<node>.<key> (what an earlier step recorded); a datetime is ISO 8601 text, "
        'compared as date(order.created_at) > date("2026-01-10"); params that list order '
        "fields (dedup_key's fields) write the path: receiver.phone, items.sku",
    )
    for column in ("field", "type", "description"):
        table.add_column(column)
    for f in fields:
        table.add_row(escape(f["field"]), f["type"], escape(f["description"]))
    return table


def _param_text(schema: dict[str, Any], required: bool, shape: str) -> str:
    bits = [shape]
    if required:
        bits.append("required")
    if "default" in schema:
        bits.append(f"default {json.dumps(schema['default'], ensure_ascii=False)}")
    for bound, sign in (("minimum", ">="), ("maximum", "<="), ("minLength", "len>=")):
        if bound in schema:
            bits.append(f"{sign} {schema[bound]}")
    return ", ".join(bits)
