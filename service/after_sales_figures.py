"""After-sales figures: cycle time per channel and day, return rates per SKU and channel, and
how often inspection fails — read from the store, for the daily figures and the dashboard.

- cycle time: from the request (its ``created_at`` on the platform) to where orderhub settled
  it (refunded, refunded by the platform or exchanged), in hours, median per channel and
  China-time day of the request;
- return rate: units coming back in returns and exchanges (gifts left out) over the units
  shipped, per SKU; requests over shipped orders (status shipped), per channel;
- inspection failure rate: inspected parcels found damaged, missing parts or with another
  serial, over the parcels inspected.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from engine.store import Store
from engine.store.after_sales_models import AfterSale, ExpectedReturn
from engine.store.models import OrderRow, utc
from service.access import Actor, require

CST = timezone(timedelta(hours=8))
SETTLED = ("refunded", "refunded_by_platform", "exchanged")


def after_sales_figures(store: Store, actor: Actor) -> dict[str, Any]:
    """The after-sales figures (see the module docstring); needs ``reports.read``."""
    require(actor, "reports.read")
    with store.session() as session:
        rows = session.execute(
            select(AfterSale, OrderRow.status, OrderRow.reason, OrderRow.canonical).join(
                OrderRow, OrderRow.id == AfterSale.item_pk
            )
        ).all()
        inspected = session.execute(
            select(ExpectedReturn.result, AfterSale.item_pk)
            .join(AfterSale, AfterSale.id == ExpectedReturn.after_sale_pk)
            .where(ExpectedReturn.status == "inspected")
        ).all()
        shipped = session.execute(
            select(OrderRow.channel, OrderRow.canonical).where(
                OrderRow.kind == "order", OrderRow.status == "shipped"
            )
        ).all()
    cycles: dict[tuple[str, str], list[float]] = defaultdict(list)
    returned: Counter[str] = Counter()
    requests: Counter[str] = Counter()
    mismatched = set()
    for request, status, reason, canonical in rows:
        asked = datetime.fromisoformat(canonical["after_sale"]["created_at"])
        if status in SETTLED:
            hours = (request.updated_at - utc(asked)).total_seconds() / 3600
            cycles[(request.channel, asked.astimezone(CST).date().isoformat())].append(hours)
        if request.type != "refund_only":
            requests[request.channel] += 1
            for line in canonical["after_sale"]["lines"]:
                if not line.get("gift"):
                    returned[line["sku"]] += int(line["qty"])
        if status == "manual" and reason == "serial_mismatch":
            mismatched.add(request.item_pk)
    sold: Counter[str] = Counter()
    orders: Counter[str] = Counter()
    for channel, canonical in shipped:
        orders[channel] += 1
        for item in canonical.get("items", []):
            sold[item["sku"]] += int(item["qty"])
    failed = sum(1 for result, pk in inspected if result != "passed" or pk in mismatched)
    return {
        "cycle_hours": {
            f"{channel}@{day}": round(statistics.median(hours), 2)
            for (channel, day), hours in sorted(cycles.items())
        },
        "return_rate_sku": {
            sku: round(returned[sku] / sold[sku], 4) for sku in sorted(returned) if sold[sku]
        },
        "return_rate_channel": {
            ch: round(requests[ch] / orders[ch], 4) for ch in sorted(requests) if orders[ch]
        },
        "inspected": len(inspected),
        "inspection_failure_rate": round(failed / len(inspected), 4) if inspected else 0.0,
    }
