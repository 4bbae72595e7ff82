"""The after-sales run report: the same keys as an after-sales scenario's `expected`, read
back from the store."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from engine.store import Store
from engine.store.after_sales_models import AfterSale, ReturnStock
from engine.store.models import OrderRow
from engine.workflow import Workflow

STATES = ("refunded", "refunded_by_platform", "refused", "exchanged", "closed",
          "awaiting_return", "manual")  # fmt: skip
#: states whose reason the report keeps (what a person or the buyer is told)
WITH_REASON = ("manual", "refused")


def is_after_sales(workflow: Workflow) -> bool:
    """Whether a workflow runs after-sales requests (its source pulls them)."""
    return workflow.nodes[workflow.source].type == "aftersales_pull"


def build_after_sales_report(store: Store) -> dict[str, Any]:
    """Every request's state, reason, restock and the mark on its original order."""
    with store.session() as session:
        rows = session.execute(
            select(AfterSale, OrderRow.status, OrderRow.reason).join(
                OrderRow, OrderRow.id == AfterSale.item_pk
            )
        ).all()
        stock = session.execute(select(ReturnStock)).scalars().all()
    by_pk = {a.id: f"{a.channel}:{a.aftersale_id}" for a, _, _ in rows}
    states, reasons, marks, replacements = {}, {}, {}, {}
    for request, status, reason in rows:
        ref = f"{request.channel}:{request.aftersale_id}"
        states[ref] = status
        if status in WITH_REASON:
            reasons[ref] = reason
        if request.original_mark:
            marks[request.original_ref] = request.original_mark
        if request.replacement_ref:
            replacements[ref] = request.replacement_ref
    restock: dict[str, dict[str, Any]] = {}
    counted = set()
    for row in sorted(stock, key=lambda r: (r.after_sale_pk, r.sku)):
        ref = by_pk[row.after_sale_pk]
        entry = restock.setdefault(ref, {"kind": row.kind, "lines": {}})
        entry["lines"][row.sku] = row.qty
        if row.counted:
            counted.add(ref)
    return {
        "requests_total": len(states),
        "state_totals": {**dict.fromkeys(STATES, 0), **Counter(states.values())},
        "states": dict(sorted(states.items())),
        "reasons": dict(sorted(reasons.items())),
        "original_marks": dict(sorted(marks.items())),
        "restock": dict(sorted(restock.items())),
        "replacements": dict(sorted(replacements.items())),
        "return_bills_counted": sorted(counted),
    }


def compare_after_sales(report: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Where a report differs from the oracle (empty when it reproduces it)."""
    diffs = []
    for key, want in expected.items():
        got = report.get(key)
        if got == want:
            continue
        if isinstance(want, dict) and isinstance(got, dict):
            wrong = {k: (got.get(k), want.get(k)) for k in set(want) | set(got)
                     if got.get(k) != want.get(k)}  # fmt: skip
            diffs.append(f"{key}: {len(wrong)} differ, e.g. {dict(sorted(wrong.items())[:3])}")
        else:
            diffs.append(f"{key}: {got!r} != {want!r}")
    return diffs
