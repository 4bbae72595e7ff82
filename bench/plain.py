"""The order-intake rules as plain Python over the scenario's dicts: the yardstick."""

from __future__ import annotations

import sqlite3
import unicodedata
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import OUTCOMES

# --------------------------------------------------------------------------- 4: plain Python


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def plain_phone(phone: str | None) -> str:
    digits = "".join(c for c in _nfkc(phone or "") if c.isdigit() and c.isascii())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def plain_problems(order: dict[str, Any], catalogue: set[str], phone: str) -> list[str]:
    items = order.get("items") or []
    found = []
    if not phone:
        found.append("missing_receiver_phone")
    if any(i.get("sku") not in catalogue for i in items):
        found.append("unknown_sku")
    if any(int(i.get("qty", 0)) <= 0 for i in items):
        found.append("bad_quantity")
    return found


def plain_key(order: dict[str, Any], phone: str) -> tuple[str, str, str]:
    r = order.get("receiver") or {}
    address = "".join(_nfkc(r.get(k, "")) for k in ("province", "city", "district", "address"))
    address = "".join(address.split())
    skus = ",".join(sorted({"".join(_nfkc(i["sku"]).split()) for i in order.get("items") or []}))
    return phone, address, skus


def plain_warehouse(order: dict[str, Any], by_province: dict[str, str], default: str) -> str:
    province = "".join(_nfkc((order.get("receiver") or {}).get("province", "")).split())
    return by_province.get(province, default)


def plain_reserve(
    order: dict[str, Any], warehouse: str, available: dict[tuple[str, str], int], safety: int
) -> tuple[str, list[str]]:
    need: Counter[str] = Counter()
    for item in order["items"]:
        need[item["sku"]] += int(item["qty"])
    if any(qty > available.get((sku, warehouse), 0) for sku, qty in need.items()):
        return "out_of_stock", []
    for sku, qty in need.items():
        available[(sku, warehouse)] -= qty
    low = [f"{sku}@{warehouse}" for sku in need if available[(sku, warehouse)] < safety]
    return ("held_low_stock" if low else "shipped"), low


WORKFLOW_WAREHOUSES = {
    "east": ["上海市", "江苏省", "浙江省", "安徽省", "山东省", "江西省"],
    "south": ["广东省", "广西壮族自治区", "福建省", "海南省"],
}


def plain_intake(scenario: dict[str, Any], on_order: Any = None) -> dict[str, Any]:
    """order_intake.yaml's decisions as plain functions over the scenario's dicts, in memory.

    Paid? -> invalid reasons -> dedup key within the window -> warehouse by province ->
    reserve stock (shipped / held_low_stock / out_of_stock). `on_order(ref, outcome,
    reason, warehouse, reserved)` is called after each order (used to add a commit).
    """
    rules = scenario.get("rules") or {}
    window = timedelta(minutes=rules.get("dedup_window_minutes", 60))
    safety = rules.get("safety_stock", 10)
    catalogue = {s["sku"] for s in scenario["skus"]}
    by_province = {
        "".join(_nfkc(p).split()): c for c, ps in WORKFLOW_WAREHOUSES.items() for p in ps
    }
    available: dict[tuple[str, str], int] = Counter()
    for row in scenario["inventory"]:
        available[(row["sku"], row["warehouse"])] += int(row["on_hand"])
    rows = sorted(
        (datetime.fromisoformat(o["created_at"]), channel, o["order_id"], o)
        for channel, orders in scenario["channels"].items()
        for o in orders
    )
    outcomes: dict[str, str] = {}
    duplicates: dict[str, str] = {}
    last_seen: dict[tuple[str, str, str], tuple[datetime, str]] = {}
    alerts: set[str] = set()
    for created, channel, order_id, order in rows:
        ref = f"{channel}:{order_id}"
        reason = warehouse = None
        reserved: dict[str, int] = {}
        if order.get("status") != "paid":
            outcome = "awaiting_payment"
        else:
            phone = plain_phone((order.get("receiver") or {}).get("phone"))
            problems = plain_problems(order, catalogue, phone)
            if problems:
                outcome, reason = "invalid", problems[0]
            else:
                key = plain_key(order, phone)
                earlier = last_seen.get(key)
                last_seen[key] = (created, ref)
                if earlier is not None and created - earlier[0] <= window:
                    outcome, reason = "duplicate_review", f"possible duplicate of {earlier[1]}"
                    duplicates[ref] = earlier[1]
                else:
                    warehouse = plain_warehouse(order, by_province, "east")
                    outcome, low = plain_reserve(order, warehouse, available, safety)
                    alerts.update(low)
                    if outcome != "out_of_stock":
                        for item in order["items"]:
                            reserved[item["sku"]] = reserved.get(item["sku"], 0) + item["qty"]
        outcomes[ref] = outcome
        if on_order is not None:
            on_order(ref, outcome, reason, warehouse, reserved)
    totals = Counter(outcomes.values())
    return {
        "orders_total": len(outcomes),
        "outcome_totals": {name: totals.get(name, 0) for name in OUTCOMES},
        "outcomes": outcomes,
        "duplicates": duplicates,
        "purchase_alerts": sorted(alerts),
    }


def plain_with_commits(scenario: dict[str, Any], db_path: Path) -> dict[str, Any]:
    """`plain_intake` writing each order's outcome and reservation, one commit per order."""
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE outcome (ref TEXT PRIMARY KEY, status TEXT, reason TEXT, wh TEXT)")
    db.execute("CREATE TABLE stock (sku TEXT, wh TEXT, reserved INT, PRIMARY KEY (sku, wh))")
    db.executemany(
        "INSERT OR IGNORE INTO stock VALUES (?, ?, 0)",
        [(r["sku"], r["warehouse"]) for r in scenario["inventory"]],
    )

    def write(ref: str, outcome: str, reason: str | None, wh: str | None, reserved: dict) -> None:
        db.execute("BEGIN")
        db.execute("INSERT INTO outcome VALUES (?, ?, ?, ?)", (ref, outcome, reason, wh))
        for sku, qty in reserved.items():
            db.execute(
                "UPDATE stock SET reserved = reserved + ? WHERE sku = ? AND wh = ?", (qty, sku, wh)
            )
        db.execute("COMMIT")

    try:
        return plain_intake(scenario, write)
    finally:
        db.close()
