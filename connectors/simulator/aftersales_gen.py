"""Generated after-sales days: an intake day, then the day after it the buyers' requests.

`generate_after_sales(orders, seed)` builds the intake scenario of `generator` (its orders,
stock and oracle), marks the dearest SKUs serial-tracked and gives every unit of them that
ships a serial number, then draws after-sales requests over its orders: returns and
exchanges of shipped orders (partial quantities, a free gift sent back with the unit),
refunds of paid orders that never shipped, and the awkward cases of PLATFORMS.md (a stale
version, the buyer cancelling while the parcel travels, the platform refunding by itself).
What the warehouse will find is drawn too (``returns``: whether the parcel arrives today,
its condition, the serials inside) with the ERP's sales return bills for the parcels that
arrive. `expected` (after the warehouse scanned and inspected as ``returns`` says) and
`expected_first_run` (one run, nothing scanned yet: what ``orderhub run … --scenario``
reproduces) are computed by `aftersales_oracle`, independently of the pipeline.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.simulator.aftersales_oracle import RULES, expected_after_sales
from connectors.simulator.generator import generate_scenario

RETURN_RATE = 0.25  # of shipped orders
REFUND_BEFORE_SHIPMENT_RATE = 0.5  # of paid orders that did not ship
TYPES = (("return_refund", 0.55), ("exchange", 0.25), ("refund_only", 0.20))
LATE_RATE = 0.1
DAMAGE_RATE = 0.12
MISSING_RATE = 0.05
MISMATCH_RATE = 0.15  # of serial-tracked returns
STALE_RATE = 0.1
CANCEL_RATE = 0.06
SYSTEM_REFUND_RATE = 0.1  # of refund-only requests
REFUND_BEFORE_ARRIVAL_RATE = 0.1  # of returns refunded on the scan (not inspected)
GIFT_RATE = 0.1
BUYER_SHIPS_RATE = 0.6
SERIAL_SKUS = 4


def generate_after_sales(orders: int, seed: int, *, day: str = "2026-01-10") -> dict[str, Any]:
    """An after-sales scenario over an intake day of `orders` orders, with `expected`."""
    scenario = generate_scenario(orders, seed, day=day)
    intake = scenario.pop("expected")
    rng = random.Random(seed * 7919 + 11)
    flags = random.Random(seed * 31 + 7)  # later cases draw here: earlier draws stay as they were
    by_price = sorted(scenario["skus"], key=lambda s: (-Decimal(s["price"]), s["sku"]))
    tracked = {s["sku"] for s in by_price[:SERIAL_SKUS]}
    for sku in scenario["skus"]:
        sku["serial_tracked"] = sku["sku"] in tracked
    shipped = sorted(ref for ref, out in intake["outcomes"].items() if out == "shipped")
    unshipped = sorted(
        ref for ref, out in intake["outcomes"].items() if out in ("held_low_stock", "out_of_stock")
    )
    orders_by_ref = {
        f"{ch}:{o['order_id']}": (ch, o) for ch, rows in scenario["channels"].items() for o in rows
    }
    serials: dict[str, dict[str, list[str]]] = {}
    for n, ref in enumerate(shipped):
        _, order = orders_by_ref[ref]
        for item in order["items"]:
            if item["sku"] in tracked:
                units = serials.setdefault(ref, {}).setdefault(item["sku"], [])
                units.extend(
                    f"SN{item['sku'].replace('-', '')}{n:05d}{k}" for k in range(item["qty"])
                )
    scenario["serials"] = serials
    start = datetime.fromisoformat(scenario["window"]["end"])  # the day after the intake day
    requests, returns, bills, quick_returns = [], {}, [], []
    seq = 0

    def next_id(channel: str) -> str:
        nonlocal seq
        seq += 1
        return {"youzan": f"2026{seq:08d}", "douyin": f"7{seq:012d}", "h5": f"AS{seq:06d}"}[channel]

    picks = [(ref, True) for ref in shipped if rng.random() < RETURN_RATE]
    picks += [(ref, False) for ref in unshipped if rng.random() < REFUND_BEFORE_SHIPMENT_RATE]
    for ref, was_shipped in picks:
        channel, order = orders_by_ref[ref]
        kind = _weighted(rng, TYPES) if was_shipped else "refund_only"
        item = rng.choice(order["items"])
        qty = rng.randint(1, item["qty"])
        aftersale_id = next_id(channel)
        lines = [{"line_id": f"{order['order_id']}-{order['items'].index(item) + 1}",
                  "sku": item["sku"], "qty": qty, "gift": False}]  # fmt: skip
        if kind != "refund_only" and rng.random() < GIFT_RATE:
            lines.append({"line_id": f"{order['order_id']}-G", "sku": item["sku"], "qty": 1,
                          "gift": True})  # fmt: skip
        refund_fen = int(Decimal(item["price"]) * qty * 100)
        created = start + timedelta(minutes=rng.randint(0, 600))
        req: dict[str, Any] = {
            "channel": channel,
            "aftersale_id": aftersale_id,
            "order_id": order["order_id"],
            "type": kind,
            "lines": lines,
            "refund_fen": refund_fen,
            "created_at": created.isoformat(),
            "updated_at": created.isoformat(),
            "buyer_tracking": None,
        }
        if rng.random() < STALE_RATE:
            req["stale_once"] = True
        if kind == "refund_only" and rng.random() < SYSTEM_REFUND_RATE:
            req["system_refund"] = True
        if kind != "refund_only":
            if rng.random() < CANCEL_RATE:
                req["buyer_cancels"] = True
            if rng.random() < BUYER_SHIPS_RATE:
                req["buyer_tracking"] = {"company": "YTO", "tracking_no": f"YT{seq:010d}"}
            quick = (
                kind == "return_refund"
                and item["sku"] not in tracked
                and refund_fen < RULES["inspect_min_yuan"] * 100
            )
            late_refund = flags.random() < REFUND_BEFORE_ARRIVAL_RATE
            if quick and not req.get("buyer_cancels"):
                quick_returns.append(req)
                req["refund_before_arrival"] = late_refund or None
            as_ref = f"{channel}:{aftersale_id}"
            fact = _parcel(rng, ref, item["sku"], qty, serials)
            returns[as_ref] = fact
            if fact["arrives"] and not req.get("buyer_cancels"):
                bills.append(_bill(len(bills) + 1, as_ref, ref, channel, order, lines, fact,
                                   scenario, start))  # fmt: skip
        requests.append(req)
    _plant_a_mismatch(requests, returns, serials, bills)
    if quick_returns and not any(r["refund_before_arrival"] for r in quick_returns):
        arriving = [
            r for r in quick_returns if returns[f"{r['channel']}:{r['aftersale_id']}"]["arrives"]
        ]
        (arriving or quick_returns)[0]["refund_before_arrival"] = True  # a day has one
    for req in quick_returns:
        if not req["refund_before_arrival"]:
            del req["refund_before_arrival"]
    scenario["scenario"] = f"after-sales-{orders}-s{seed}"
    scenario["kind"] = "after_sales"
    scenario["rules_after_sales"] = dict(RULES)
    scenario["after_sales"] = requests
    scenario["returns"] = returns
    scenario["return_bills"] = bills
    scenario["intake_expected"] = intake
    scenario["expected"] = expected_after_sales(scenario)
    # what `orderhub run … --scenario` reproduces: one run, nothing scanned in yet
    scenario["expected_first_run"] = expected_after_sales(scenario, warehouse=False)
    return scenario


def _plant_a_mismatch(
    requests: list[dict[str, Any]], returns: dict[str, dict[str, Any]],
    serials: dict[str, dict[str, list[str]]], bills: list[dict[str, Any]],
) -> None:  # fmt: skip
    """Make sure a day has one parcel with a serial that is not the one shipped (when any
    serial-tracked unit comes back at all)."""
    if any(f["serials"] and f["serials"][0].startswith("SNX") for f in returns.values()):
        return
    for req in requests:
        fact = returns.get(f"{req['channel']}:{req['aftersale_id']}")
        if fact and fact["arrives"] and fact["serials"] and not req.get("buyer_cancels"):
            fact["serials"] = ["SNX000000001", *fact["serials"][1:]]
            for bill in bills:
                if bill["aftersale_ref"] == f"{req['channel']}:{req['aftersale_id']}":
                    for line in bill["lines"]:
                        if line["serials"]:
                            line["serials"] = list(fact["serials"])
            return


def _parcel(
    rng: random.Random, ref: str, sku: str, qty: int, serials: dict[str, dict[str, list[str]]]
) -> dict[str, Any]:
    """What is in the parcel when it comes back (if it comes today)."""
    shipped = (serials.get(ref) or {}).get(sku) or []
    inside = shipped[:qty]
    condition = "passed"
    roll = rng.random()
    if roll < DAMAGE_RATE:
        condition = "damaged"
    elif roll < DAMAGE_RATE + MISSING_RATE:
        condition = "missing_parts"
    if inside and rng.random() < MISMATCH_RATE:
        inside = [f"SNX{rng.randint(10**8, 10**9 - 1)}"] + inside[1:]  # not the unit we shipped
    return {"arrives": rng.random() >= LATE_RATE, "condition": condition, "serials": inside}


def _bill(
    n: int, as_ref: str, ref: str, channel: str, order: dict, lines: list[dict], fact: dict,
    scenario: dict, start: datetime,
) -> dict[str, Any]:  # fmt: skip
    from connectors.simulator.outbound import warehouse_of

    status = "KCZT02_SYS" if fact["condition"] != "passed" else "KCZT01_SYS"
    return {
        "bill_no": f"XSTHD{n:06d}",
        "aftersale_ref": as_ref,
        "order_ref": ref,
        "channel": channel,
        "warehouse": warehouse_of(scenario, order),
        "approved_at": (start + timedelta(hours=20)).replace(tzinfo=None).isoformat(),
        "lines": [
            {
                "sku": line["sku"],
                "qty": line["qty"],
                "stock_status": status,
                "serials": fact["serials"] if not line["gift"] else [],
            }
            for line in lines
        ],  # fmt: skip
    }


def _weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    roll, acc = rng.random(), 0.0
    for name, weight in table:
        acc += weight
        if roll < acc:
            return name
    return table[-1][0]
