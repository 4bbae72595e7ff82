"""Stock that comes back resumes the orders waiting for it, oldest paid first.

An order out of stock waits for stock of each SKU@warehouse it lacks, with what it must
reserve (``{"reserve": {sku: qty}, "warehouse": …}``); one held for low stock waits until
every SKU it left low is back at its safety level (``{"above": n, "skus": […]}``; its
reservation is made already). After an ERP sync, `resume_for_stock` goes through those waits
oldest paid first and, for each run, in one transaction: claims it (the conditional UPDATE
that lets only one waker win; rivals wait on the run's row) and reserves its lines — each
line one conditional UPDATE that never takes stock below zero — or checks the safety level.
When a line does not fit, the transaction rolls back and the order keeps waiting; smaller
orders after it may still fit. Any number of workers may run it at once: the claim
serialises them per run, the conditional UPDATEs per SKU, so nothing is oversold and no
order is resumed twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.store import Store
from engine.store import stock as stock_store
from engine.store import waits as wait_store
from engine.store.models import InventoryRow, utc, utcnow
from engine.store.waits import OpenWait, open_waits
from engine.waits import Woken

ROUTE = "restocked"
_inventory = InventoryRow.__table__


def resume_for_stock(
    store: Store,
    keys: list[str] | None = None,
    *,
    by: str = "ERP stock sync",
    now: datetime | None = None,
) -> list[Woken]:
    """Wake the runs waiting for stock of `keys` (SKU@warehouse; all when None) that now
    fit; the ones this call woke, oldest paid first."""
    with store.engine.connect() as conn:
        waits = open_waits(conn, "stock", keys=keys)
        stocked = _in_stock(conn, {w.key for w in waits})
    moment = utc(now) if now is not None else utcnow()
    woken: list[Woken] = []
    tried: set[int] = set()
    for wait in waits:
        if wait.run_id in tried or wait.key not in stocked:
            continue
        tried.add(wait.run_id)
        with store.engine.connect() as conn:
            tx = conn.begin()
            try:
                won = wait_store.claim(conn, wait, ROUTE, by, None, moment)
                note = _fits(conn, wait) if won else None
                if note is not None:
                    wait_store.set_note(conn, wait.id, note)
                    tx.commit()
                    woken.append(
                        Woken(
                            wait.run_id,
                            wait.ref,
                            wait.workflow_id,
                            wait.version,
                            wait.node_id,
                            ROUTE,
                        )
                    )
                else:
                    tx.rollback()
            except BaseException:
                tx.rollback()
                raise
    return woken


def _fits(conn: Any, wait: OpenWait) -> str | None:
    """Reserve the order's lines, or check its SKUs are back at their safety level; a note
    on what was done, None when it does not fit (the caller rolls back)."""
    detail = wait.detail
    warehouse = detail.get("warehouse", wait.key.rpartition("@")[2])
    if "reserve" in detail:
        lines = {sku: int(qty) for sku, qty in sorted(detail["reserve"].items())}
        left = stock_store.reserve(conn, wait.order_pk, warehouse, lines, wait.run_id)
        if left is None:
            return None
        return "reserved " + ", ".join(f"{sku}×{qty}@{warehouse}" for sku, qty in lines.items())
    above = int(detail.get("above", 0))
    skus = detail.get("skus") or [wait.key.rpartition("@")[0]]
    for sku in skus:
        if stock_store.available(conn, sku, warehouse) < above:
            return None
    return f"{', '.join(skus)}@{warehouse} back at safety stock {above}"


def _in_stock(conn: Any, keys: set[str]) -> set[str]:
    """The keys (SKU@warehouse) with anything available at all: the others cannot resume."""
    if not keys:
        return set()
    skus = {key.rpartition("@")[0] for key in keys}
    rows = conn.execute(
        select(_inventory.c.sku, _inventory.c.warehouse).where(
            _inventory.c.sku.in_(skus), _inventory.c.on_hand - _inventory.c.reserved > 0
        )
    )
    return {f"{sku}@{warehouse}" for sku, warehouse in rows} & keys
