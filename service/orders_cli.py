"""`orderhub orders …`: what happened to one order, and which workflow version decided it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import typer
from rich.cells import cell_len

from service import orders
from service.cli_common import AS, DB, JSON, call_as, print_json
from service.orders import OrderHistory, OrderInfo, Run, WaitInfo

orders_app = typer.Typer(
    help="Orders: what orderhub did with one, and the newest ones.", no_args_is_help=True
)
STEP_HEADER = ("try", "node", "type", "outcome", "ms", "error", "detail")


@orders_app.command("show")
def show(
    ref: str = typer.Argument(..., help="CHANNEL:ORDER_ID, e.g. youzan:E20260110000001"),
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """The order, its queue items and waybills, and every run with its version and steps."""
    history = call_as(db, as_, lambda s, a: orders.order_history(s, a, ref))
    if as_json:
        print_json(history.as_dict())
        return
    for line in history_lines(history):
        typer.echo(line)


@orders_app.command("list")
def list_orders(
    status: str | None = typer.Option(None, help="only orders with this orderhub status"),
    channel: str | None = typer.Option(None, help="only orders of this channel"),
    limit: int = typer.Option(50, min=1, max=orders.MAX_LIMIT, help="at most this many"),
    db: str | None = DB,
    as_: str = AS,
    as_json: bool = JSON,
) -> None:
    """The newest orders: ref, created, status, reason, warehouse."""
    found = call_as(db, as_, lambda s, a: orders.list_orders(s, a, status, channel, limit))
    if as_json:
        print_json([summary.as_dict() for summary in found])
        return
    rows = [
        (o.ref, _when(o.created_at), o.status, o.warehouse or "-", o.reason or "-") for o in found
    ]
    for line in _table(("ref", "created", "status", "warehouse", "reason"), rows):
        typer.echo(line)


def history_lines(history: OrderHistory) -> list[str]:
    """The text `orders show` prints: the order's block, then each run and its steps."""
    lines = _order_lines(history.order)
    for bill in history.waybills:
        lines.append(
            f"waybill   {bill.carrier} {bill.waybill_no}  created {_when(bill.created_at)}"
            f"  uploaded {_when(bill.uploaded_at)}"
        )
    for item in history.queue:
        lines.append(f"queue     {item.queue} ({item.status}): {item.reason}")
    for wait in history.waits:
        lines.append(_wait_line(wait))
    if not history.runs:
        lines += ["", "no runs yet"]
    for run in history.runs:
        lines += ["", *_run_lines(run)]
    return lines


def _wait_line(wait: WaitInfo) -> str:
    what = f"{wait.kind} {wait.key}".strip()
    line = f"waits     {what} at {wait.node_id} since {_when(wait.since)}: {wait.reason}"
    if wait.status == "open":
        if wait.offers and wait.kind == "queue":
            line += f" (decisions: {', '.join(wait.offers)})"
        if wait.deadline is not None:
            line += f" (remind after {_when(wait.deadline)})"
        return line
    if wait.status in ("woken", "done"):
        how = f" → {wait.route}" if wait.route else " (ran the node again)"
        return line + f"; woken by {wait.woken_by} {_when(wait.woken_at)}{how}"
    return line + f"; {wait.status}" + (f" ({wait.note})" if wait.note else "")


def _order_lines(order: OrderInfo) -> list[str]:
    r = order.receiver
    items = "; ".join(
        f"{i.get('sku')} {i.get('title', '')} ×{i.get('qty')} @ {i.get('price')}"
        for i in order.items
    )
    return [
        f"order     {order.ref}",
        f"status    {order.status}  (platform: {order.platform_status})"
        f"  warehouse {order.warehouse or '-'}",
        f"reason    {order.reason or '-'}",
        f"created   {_when(order.created_at)}  paid {_when(order.paid_at)}",
        f"amount    {order.amount}  buyer {order.buyer_nick or '-'}",
        f"receiver  {r.name} {r.phone}",
        f"address   {r.province} {r.city} {r.district} {r.address}",
        f"items     {items or '-'}",
    ]


def _run_lines(run: Run) -> list[str]:
    lines = [
        f"run {run.id}  {run.workflow_id} {run.label}  {run.status}  {run.outcome or '-'}"
        + (f"  (try {run.attempt})" if run.attempt > 1 else ""),
        f"  created {_when(run.created_at)}  finished {_when(run.finished_at)}",
    ]
    if run.error:
        lines.append(f"  error: {_first_line(run.error)}")
    if run.pinned:
        lines.append(f"  {run.pinned}")
    rows = [
        (
            str(s.attempt),
            s.node_id,
            s.node_type,
            s.outcome or f"({s.status})",
            "-" if s.duration_ms is None else f"{s.duration_ms:.2f}",
            _first_line(s.error or ""),
            _compact(s.detail),
        )
        for s in run.steps
    ]
    lines += ["  " + line for line in _table(STEP_HEADER, rows, right=frozenset({0, 4}))]
    return lines


def _table(
    header: Sequence[str], rows: list[tuple[str, ...]], right: frozenset[int] = frozenset()
) -> list[str]:
    """Rows as aligned columns (wide characters counted as two), the header first."""
    widths = [max(cell_len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for row in [tuple(header), *rows]:
        cells = [
            _pad(cell, width, cell_len(cell), index in right)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _pad(cell: str, width: int, length: int, right: bool) -> str:
    gap = " " * (width - length)
    return gap + cell if right else cell + gap


def _compact(detail: dict) -> str:
    if not detail:
        return "-"
    text = ", ".join(f"{key}={_plain(value)}" for key, value in detail.items())
    return text if len(text) <= 80 else text[:79] + "…"


def _plain(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "-"


def _when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC") if dt is not None else "-"
