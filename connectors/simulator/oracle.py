"""The scenario oracle: an independent implementation of the order-intake rules.

`expected_outcomes(scenario)` computes a scenario's whole `expected` object (except
`planted`, which only a generator knows) from its data alone, following the rules in the
shared scenarios README. Standard library only: this module must not depend on the project
it checks.

Which refs `expected.outcomes` leaves out: an order's outcome depends on processing order
only at a *contended* SKU@warehouse pair — one where the total quantity asked of it by the
orders reaching the stock step would bring it below `safety_stock`
(`on_hand - demand < safety_stock`). Every order that reaches the stock step with at least
one line on a contended pair is left out of `outcomes`; `stock_counts` instead counts, per
contended pair (keyed `"SKU@warehouse"`), how many of those orders end `shipped`,
`held_low_stock` and `out_of_stock`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "OUTCOMES",
    "STOCK_OUTCOMES",
    "address_key",
    "dedup_key",
    "expected_outcomes",
    "invalid_reason",
    "normalize_phone",
    "processing_order",
]

OUTCOMES = (
    "shipped",
    "held_low_stock",
    "out_of_stock",
    "duplicate_review",
    "invalid",
    "awaiting_payment",
)
STOCK_OUTCOMES = ("shipped", "held_low_stock", "out_of_stock")
_NON_DIGITS = re.compile(r"[^0-9]+")
_WHITE_SPACE = re.compile(r"\s+")

DedupKey = tuple[str, str, tuple[str, ...]]


def normalize_phone(phone: str | None) -> str:
    """The phone's digits after NFKC, without a leading `86` on 13 digits."""
    digits = _NON_DIGITS.sub("", _nfkc(phone or ""))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def address_key(receiver: dict[str, Any]) -> str:
    """Province+city+district+address, NFKC, with all white space removed."""
    parts = (receiver.get(k) or "" for k in ("province", "city", "district", "address"))
    return _WHITE_SPACE.sub("", _nfkc("".join(parts)))


def dedup_key(order: dict[str, Any], phone: str | None = None) -> DedupKey:
    """(normalised phone, normalised address, sorted set of SKUs).

    `phone` may pass the already-normalised phone to save normalising it twice.
    """
    receiver = order.get("receiver") or {}
    if phone is None:
        phone = normalize_phone(receiver.get("phone"))
    skus = tuple(sorted({item["sku"] for item in order.get("items") or []}))
    return phone, address_key(receiver), skus


def invalid_reason(
    order: dict[str, Any], catalogue: set[str], phone: str | None = None
) -> str | None:
    """The first failing check: missing phone, then unknown SKU, then bad quantity."""
    if phone is None:
        phone = normalize_phone((order.get("receiver") or {}).get("phone"))
    if not phone:
        return "missing_receiver_phone"
    items = order.get("items") or []
    if any(item.get("sku") not in catalogue for item in items):
        return "unknown_sku"
    if any(_qty(item) <= 0 for item in items):
        return "bad_quantity"
    return None


def processing_order(scenario: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every `(channel, order)` by `created_at`, ties by channel then order id."""
    return [(channel, order) for _, channel, _, order in _sorted_rows(scenario)]


def expected_outcomes(scenario: dict[str, Any]) -> dict[str, Any]:
    """Compute `expected` (all keys but `planted`) from the scenario's data."""
    rules = scenario.get("rules") or {}
    window = timedelta(minutes=rules.get("dedup_window_minutes", 60))
    safety = rules.get("safety_stock", 10)
    catalogue = {row["sku"] for row in scenario["skus"]}
    by_province = {p: w["code"] for w in scenario["warehouses"] for p in w["provinces"]}
    default_wh = scenario["default_warehouse"]
    available: dict[str, int] = {}
    for row in scenario["inventory"]:
        pair = _pair(row["sku"], row["warehouse"])
        available[pair] = available.get(pair, 0) + int(row["on_hand"])

    outcome: dict[str, str] = {}
    duplicates: dict[str, str] = {}
    warehouses: dict[str, str] = {}
    invalid_reasons: dict[str, str] = {}
    stock_lines: dict[str, list[tuple[str, int]]] = {}
    last_seen: dict[DedupKey, tuple[datetime, str]] = {}
    alerts: set[str] = set()

    for created, channel, order_id, order in _sorted_rows(scenario):
        ref = f"{channel}:{order_id}"
        if order.get("status") != "paid":
            outcome[ref] = "awaiting_payment"
            continue
        phone = normalize_phone((order.get("receiver") or {}).get("phone"))
        reason = invalid_reason(order, catalogue, phone)
        if reason is not None:
            outcome[ref] = "invalid"
            invalid_reasons[ref] = reason
            continue
        key = dedup_key(order, phone)
        earlier = last_seen.get(key)
        # Processing is by created_at, so the last one seen is the latest earlier order;
        # flagged duplicates count as "earlier" too.
        last_seen[key] = (created, ref)
        if earlier is not None and created - earlier[0] <= window:
            outcome[ref] = "duplicate_review"
            duplicates[ref] = earlier[1]
            continue
        receiver = order.get("receiver") or {}
        warehouse = by_province.get(receiver.get("province"), default_wh)
        warehouses[ref] = warehouse
        lines = [(_pair(item["sku"], warehouse), _qty(item)) for item in order["items"]]
        stock_lines[ref] = lines
        outcome[ref], low = _reserve(lines, available, safety)
        alerts.update(low)

    contended = _contended_pairs(scenario, stock_lines, safety)
    outcomes: dict[str, str] = {}
    stock_counts: dict[str, dict[str, int]] = {}
    for ref, result in outcome.items():
        lines = stock_lines.get(ref, [])
        touched = [pair for pair, _ in lines if pair in contended]
        for pair in dict.fromkeys(touched):
            counts = stock_counts.setdefault(pair, dict.fromkeys(STOCK_OUTCOMES, 0))
            counts[result] += 1
        if not touched:
            outcomes[ref] = result

    totals = Counter(outcome.values())
    return {
        "orders_total": len(outcome),
        "outcome_totals": {name: totals.get(name, 0) for name in OUTCOMES},
        "outcomes": outcomes,
        "stock_counts": stock_counts,
        "duplicates": duplicates,
        "warehouses": warehouses,
        "invalid_reasons": invalid_reasons,
        "purchase_alerts": sorted(alerts),
    }


def _reserve(
    lines: list[tuple[str, int]], available: dict[str, int], safety: int
) -> tuple[str, list[str]]:
    """Apply the stock rule to one order's lines, mutating `available`.

    Returns the outcome and the pairs left below safety stock (the purchase alerts).
    """
    need: dict[str, int] = {}
    for pair, qty in lines:
        need[pair] = need.get(pair, 0) + qty
    # A line above what is still available (two lines of one SKU count together): nothing
    # is reserved.
    if any(qty > available.get(pair, 0) for pair, qty in need.items()):
        return "out_of_stock", []
    for pair, qty in need.items():
        available[pair] = available.get(pair, 0) - qty
    low = [pair for pair in need if available[pair] < safety]
    return ("held_low_stock" if low else "shipped"), low


def _sorted_rows(scenario: dict[str, Any]) -> list[tuple[datetime, str, str, dict[str, Any]]]:
    """(created, channel, order_id, order) rows in processing order."""
    rows = [
        (_parse_time(order["created_at"]), channel, order["order_id"], order)
        for channel, orders in scenario["channels"].items()
        for order in orders
    ]
    rows.sort(key=lambda row: row[:3])
    return rows


def _contended_pairs(
    scenario: dict[str, Any], stock_lines: dict[str, list[tuple[str, int]]], safety: int
) -> set[str]:
    """Pairs whose total demand at the stock step would take them below safety stock."""
    on_hand: dict[str, int] = {}
    for row in scenario["inventory"]:
        pair = _pair(row["sku"], row["warehouse"])
        on_hand[pair] = on_hand.get(pair, 0) + int(row["on_hand"])
    demand: dict[str, int] = {}
    for lines in stock_lines.values():
        for pair, qty in lines:
            demand[pair] = demand.get(pair, 0) + qty
    return {pair for pair, qty in demand.items() if on_hand.get(pair, 0) - qty < safety}


def _nfkc(text: str) -> str:
    # ASCII is already NFKC-normal; skipping it keeps 50,000-order days fast.
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _pair(sku: str, warehouse: str) -> str:
    return f"{sku}@{warehouse}"


def _qty(item: dict[str, Any]) -> int:
    try:
        return int(item.get("qty", 0))
    except (TypeError, ValueError):
        return 0


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)
