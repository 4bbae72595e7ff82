"""What a generated history should reveal, computed from its rendered data alone.

`expected_history(history, planted)` counts each channel's funnel (created → paid →
shipped → returned) from the orders' own time stamps, finds the day the planted hot SKU
sold out from the ERP stock rows, and the planted trial buyers' orders and returns by their
normalised phone. `planted` only says *which* SKU and customers were planted; every figure
is counted here from the data, independently of orderhub. Standard library only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from connectors.simulator.oracle import normalize_phone

__all__ = ["FUNNEL", "expected_history", "funnel"]

FUNNEL = ("created", "paid", "shipped", "returned")


def expected_history(history: dict[str, Any], planted: dict[str, Any]) -> dict[str, Any]:
    """The `expected` object of a history (see the module docstring)."""
    start = datetime.fromisoformat(history["window"]["start"])
    end = datetime.fromisoformat(history["window"]["end"])
    last_week = (end - timedelta(days=7)).isoformat()  # every stamp is in one offset
    orders = [(c, o) for c, rows in history["channels"].items() for o in rows]
    expected: dict[str, Any] = {
        "window": {"first_day": start.date().isoformat(), "last_day": _day_before(end)},
        "funnel": {c: funnel([o for ch, o in orders if ch == c]) for c in history["channels"]},
        "funnel_last_7_days": {
            c: funnel([o for ch, o in orders if ch == c and o["created_at"] >= last_week])
            for c in history["channels"]
        },
        "customers": len(
            {normalize_phone(o["receiver"]["phone"]) for _, o in orders if o["paid_at"]}
        ),
        "outbound": _outbound(orders),
        "promotions": [p["day"] for p in history["promotions"]],
        "hot_sku": None,
        "high_return_group": _group(orders, set(planted["trial_buyers"])),
    }
    hot = planted.get("hot_sku")
    if hot:
        expected["hot_sku"] = {**hot, "sells_out_on": _sold_out(history["stock"], hot["sku"])}
    return expected


def funnel(orders: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by stage, the paid amount (every order ever paid), completion and basket."""
    counts = {
        "created": len(orders),
        "paid": sum(1 for o in orders if o["paid_at"]),
        "shipped": sum(1 for o in orders if o["shipped_at"]),
        "returned": sum(1 for o in orders if o["returned_at"]),
    }
    cents = sum(_cents(o["amount"]) for o in orders if o["paid_at"])
    paid = counts["paid"]
    return {
        **counts,
        "paid_amount": f"{cents // 100}.{cents % 100:02d}",
        "payment_completion": round(paid / counts["created"], 4) if orders else None,
        "average_basket": f"{cents / paid / 100:.2f}" if paid else None,
    }


def _group(orders: list[tuple[str, dict[str, Any]]], members: set[str]) -> dict[str, Any]:
    shipped = returned = 0
    for _, order in orders:
        if normalize_phone(order["receiver"]["phone"]) in members and order["shipped_at"]:
            shipped += 1
            returned += 1 if order["returned_at"] else 0
    return {
        "members": sorted(members),
        "shipped": shipped,
        "returned": returned,
        "return_rate": round(returned / shipped, 4) if shipped else None,
    }


def _outbound(orders: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, int]]:
    """Orders to pack per warehouse and local day of payment (paid, not refunded before
    shipping)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _, order in orders:
        if order["paid_at"] and order["status"] != "cancelled":
            out[order["warehouse"]][order["paid_at"][:10]] += 1
    return {w: dict(sorted(days.items())) for w, days in sorted(out.items())}


def _sold_out(stock: list[dict[str, Any]], sku: str) -> str | None:
    """The first day the SKU ends with nothing on hand in any warehouse."""
    totals: dict[str, int] = defaultdict(int)
    for row in stock:
        if row["sku"] == sku:
            totals[row["day"]] += int(row["on_hand"])
    return next((day for day in sorted(totals) if totals[day] <= 0), None)


def _day_before(end: datetime) -> str:
    return (end.date() - timedelta(days=1)).isoformat()


def _cents(amount: str) -> int:
    whole, _, frac = amount.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])
