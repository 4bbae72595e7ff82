"""The `stock_check` node: reserve the order's lines in its warehouse, never overselling."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from engine import erp_sync
from engine.context import RunStepContext
from engine.ingest import PrepareContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node


@node("stock_check")
class StockCheck(BaseNode):
    """Reserve the order's lines in its warehouse; hold it when stock runs below safety.

    On `out` and `low` its detail says what would let the order go on (``restock``: the
    lines to reserve, or the SKUs to see back at the safety level); a queue node that routes
    ``restocked`` waits for that stock (see `engine.restock`).
    """

    class Params(BaseModel):
        safety_stock: int = Field(10, ge=0, description="hold orders that leave less than this")
        sync_inventory: bool = Field(True, description="refresh on-hand stock from the ERP first")
        purchase_alert: bool = Field(True, description="alert once per SKU@warehouse running low")

    outcomes = ("ok", "low", "out")

    def __init__(self, params: Params, node_id: str) -> None:
        super().__init__(params, node_id)
        self.resync = erp_sync.Resync()

    async def prepare(self, ctx: PrepareContext) -> None:
        """Read the ERP's sales outbound bills, then its on-hand stock; write both at once.

        Bills first, on-hand second, consumed only with that on-hand: a bill booked between
        the two reads counts its order twice for one trigger, never zero times (see
        `engine.store.outbound`). When the ERP is down, go on from the cache; when only the
        bills cannot be read, on-hand is still refreshed and the bills wait for the next
        trigger. A dry run reads and writes nothing.
        """
        if not self.params.sync_inventory or ctx.dry_run:
            return
        erp = ctx.connectors.erp
        since = ctx.outbound_since()
        shipped = None
        if since is not None:
            shipped = await ctx.fetch(
                f"{self.node_id}: ERP outbound bills", lambda: erp.outbound(since)
            )
        synced = await ctx.refresh(
            f"{self.node_id}: ERP stock",
            erp.inventory,
            lambda rows: ctx.sync_inventory(rows, shipped),
        )
        if not synced:
            self.resync.failed()  # this trigger's runs wait for it, without calling again

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        warehouse = ctx.fact("warehouse") or ctx.store.warehouse()
        if warehouse is None:
            raise ValueError(f"{self.node_id}: no warehouse chosen; put split_warehouse first")
        if await self._stock_missing(warehouse, ctx):
            wait = erp_sync.waiting_for_erp(f"the stock of warehouse {warehouse}")
            detail = {"warehouse": warehouse}
            return Outcome("unavailable", detail, "waiting", wait.reason, waits=(wait,))
        lines = Counter()
        for line in order.items:
            lines[line.sku] += line.qty
        left = ctx.store.reserve(warehouse, dict(lines))
        if left is None:
            skus = ",".join(sorted(lines))
            restock = {"warehouse": warehouse, "reserve": dict(sorted(lines.items()))}
            return Outcome(
                "out",
                {"warehouse": warehouse, "restock": restock},
                reason=f"out of stock: {skus}@{warehouse}",
            )
        low = sorted(sku for sku, n in left.items() if n < self.params.safety_stock)
        if not low:
            return Outcome("ok", {"warehouse": warehouse, "left": left})
        if self.params.purchase_alert:
            for sku in low:
                ctx.store.raise_alert(
                    "purchase",
                    f"{sku}@{warehouse}",
                    f"补货提醒 purchase alert: {sku} in {warehouse} is down to {left[sku]} "
                    f"(safety stock {self.params.safety_stock})",
                )
        subjects = ",".join(f"{sku}@{warehouse}" for sku in low)
        restock = {"warehouse": warehouse, "above": self.params.safety_stock, "skus": low}
        return Outcome(
            "low",
            {"warehouse": warehouse, "left": left, "restock": restock},
            reason=f"below safety stock: {subjects}",
        )

    async def _stock_missing(self, warehouse: str, ctx: RunStepContext) -> bool:
        """True when the warehouse's stock was never synced and the ERP cannot give it now:
        a run that waited here before tries once (its call is the breaker's probe). The
        outbound bills are left to the next trigger: on-hand alone never oversells."""
        wanted = self.params.sync_inventory and erp_sync.WAIT_WHEN_NEVER_SYNCED
        if not wanted or ctx.dry_run or ctx.store.stock_known(warehouse):
            return False
        if self.node_id not in ctx.state and self.resync.failures:
            return True  # this trigger's sync failed a moment ago: no call before a wake

        async def sync() -> None:
            if not ctx.store.stock_known(warehouse):  # another run may have synced it
                await ctx.durable()
                ctx.store.sync_stock(await ctx.connectors.erp.inventory())

        return not await self.resync.attempt(sync)
