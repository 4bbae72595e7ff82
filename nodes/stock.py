"""The `stock_check` node: reserve the order's lines in its warehouse, never overselling."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.ingest import PrepareContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node


@node("stock_check")
class StockCheck(BaseNode):
    """Reserve the order's lines in its warehouse; hold it when stock runs below safety."""

    class Params(BaseModel):
        safety_stock: int = Field(10, ge=0, description="hold orders that leave less than this")
        sync_inventory: bool = Field(True, description="refresh on-hand stock from the ERP first")
        purchase_alert: bool = Field(True, description="alert once per SKU@warehouse running low")

    outcomes = ("ok", "low", "out")

    async def prepare(self, ctx: PrepareContext) -> None:
        """Refresh on-hand stock from the ERP; when the ERP is down, go on from the cache."""
        if self.params.sync_inventory:
            await ctx.refresh(
                f"{self.node_id}: ERP stock", ctx.connectors.erp.inventory, ctx.sync_inventory
            )

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        warehouse = ctx.fact("warehouse") or ctx.store.warehouse()
        if warehouse is None:
            raise ValueError(f"{self.node_id}: no warehouse chosen; put split_warehouse first")
        lines = Counter()
        for line in order.items:
            lines[line.sku] += line.qty
        left = ctx.store.reserve(warehouse, dict(lines))
        if left is None:
            skus = ",".join(sorted(lines))
            return Outcome(
                "out", {"warehouse": warehouse}, reason=f"out of stock: {skus}@{warehouse}"
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
        return Outcome(
            "low", {"warehouse": warehouse, "left": left}, reason=f"below safety stock: {subjects}"
        )
