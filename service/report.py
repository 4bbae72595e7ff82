"""The run report: the same keys as a scenario's `expected`, read back from the store."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select

from engine.store import Store
from engine.store.models import Alert, OrderRow, QueueItem, Waybill

STOCK_OUTCOMES = ("shipped", "held_low_stock", "out_of_stock")
#: every outcome of the scenario rules, counted even when no order reached it (as `expected`)
OUTCOMES = (*STOCK_OUTCOMES, "duplicate_review", "invalid", "awaiting_payment")


def build_report(store: Store, refs: set[str] | None = None) -> dict[str, Any]:
    """Every order's outcome and what decided it; `refs` limits it to those orders."""
    with store.session() as session:
        # only the columns the report reads (not the platforms' raw records)
        columns = (
            OrderRow.id,
            OrderRow.channel,
            OrderRow.order_id,
            OrderRow.status,
            OrderRow.reason,
            OrderRow.warehouse,
            OrderRow.canonical,
        )
        orders = select(*columns).where(OrderRow.kind == "order")  # not after-sales items
        rows = [r for r in session.execute(orders).all() if _keep(r, refs)]
        dup_of = {
            pk: item.detail.get("duplicate_of")
            for pk, item in session.execute(
                select(QueueItem.order_pk, QueueItem).where(QueueItem.queue == "review")
            ).all()
        }
        waybill_of = dict(session.execute(select(Waybill.order_pk, Waybill.waybill_no)).all())
        alerts = sorted(session.scalars(select(Alert.subject).where(Alert.kind == "purchase")))
    stock_counts: dict[str, Counter] = defaultdict(Counter)
    report: dict[str, Any] = {
        "orders_total": len(rows),
        "outcome_totals": {**dict.fromkeys(OUTCOMES, 0), **Counter(r.status for r in rows)},
        "outcomes": {},
        "stock_counts": {},
        "duplicates": {},
        "warehouses": {},
        "invalid_reasons": {},
        "purchase_alerts": alerts,
        "waybills": {},
    }
    for row in sorted(rows, key=lambda r: (r.channel, r.order_id)):
        ref = f"{row.channel}:{row.order_id}"
        report["outcomes"][ref] = row.status
        if row.status == "duplicate_review" and dup_of.get(row.id):
            report["duplicates"][ref] = dup_of[row.id]
        if row.warehouse:
            report["warehouses"][ref] = row.warehouse
        if row.status == "invalid":
            report["invalid_reasons"][ref] = row.reason
        if row.id in waybill_of:
            report["waybills"][ref] = waybill_of[row.id]
        if row.status in STOCK_OUTCOMES and row.warehouse:
            for sku in {item["sku"] for item in row.canonical.get("items", [])}:
                stock_counts[f"{sku}@{row.warehouse}"][row.status] += 1
    report["stock_counts"] = {k: dict(v) for k, v in sorted(stock_counts.items())}
    return report


def _keep(row: Any, refs: set[str] | None) -> bool:
    return refs is None or f"{row.channel}:{row.order_id}" in refs


def compare_with_expected(report: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Where a report differs from a scenario's oracle (empty when it reproduces it)."""
    diffs = []
    for key in ("orders_total", "outcome_totals", "duplicates", "warehouses", "invalid_reasons"):
        if report.get(key) != expected.get(key):
            diffs.append(f"{key}: {_delta(report.get(key), expected.get(key))}")
    if sorted(report.get("purchase_alerts", [])) != sorted(expected.get("purchase_alerts", [])):
        diffs.append(f"purchase_alerts: {report.get('purchase_alerts')} != expected")
    wrong = {
        ref: (report["outcomes"].get(ref), want)
        for ref, want in expected.get("outcomes", {}).items()
        if report["outcomes"].get(ref) != want
    }
    if wrong:
        diffs.append(f"outcomes: {len(wrong)} differ, e.g. {dict(list(wrong.items())[:3])}")
    for pair, counts in expected.get("stock_counts", {}).items():
        got = report.get("stock_counts", {}).get(pair, {})
        if {k: v for k, v in got.items() if v} != {k: v for k, v in counts.items() if v}:
            diffs.append(f"stock_counts[{pair}]: {got} != {counts}")
    return diffs


def _delta(got: Any, want: Any) -> str:
    if isinstance(got, dict) and isinstance(want, dict):
        missing = sorted(set(want) - set(got))[:3]
        extra = sorted(set(got) - set(want))[:3]
        changed = [k for k in want if k in got and got[k] != want[k]][:3]
        return (
            f"missing {missing}, extra {extra}, changed {[(k, got[k], want[k]) for k in changed]}"
        )
    return f"{got!r} != {want!r}"


def unexpected_outcomes(store: Store, outcomes: tuple[str, ...] = ("exception", "failed")) -> dict:
    """ref -> reason of the orders that ended in an error outcome (for diagnostics)."""
    with store.session() as session:
        rows = session.execute(
            select(OrderRow.channel, OrderRow.order_id, OrderRow.status, OrderRow.reason).where(
                OrderRow.status.in_(outcomes)
            )
        ).all()
    return {f"{c}:{o}": f"{s}: {r}" for c, o, s, r in rows}
