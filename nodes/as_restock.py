"""The `restock_return` node: put the returned units back — sellable or to quarantine — once,
and tie them to the ERP's sales return bill so the stock is counted once (on-hand comes
from the ERP; orderhub never adds the units a second time)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.errors import ConnectorError
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.after_sale_item import request_of, request_ref, returned_lines


@node("restock_return")
class RestockReturn(BaseNode):
    """Restock the returned lines as sellable or quarantine and find the ERP's return bill."""

    class Params(BaseModel):
        kind: Literal["sellable", "quarantine"] = Field(description="where the units go")

    outcomes = ("restocked",)

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        request = request_of(order)
        view = ctx.store.after_sales()
        warehouse = ctx.fact("warehouse") or view.row()["warehouse"] or ""
        lines = returned_lines(request)
        view.restock(warehouse, lines, self.params.kind)
        detail = {"kind": self.params.kind, "lines": lines, "erp_bill": None}
        if ctx.dry_run:
            return Outcome("restocked", detail)
        try:
            bills = await ctx.connectors.erp_returns.return_bills()
        except ConnectorError as exc:  # counted when a later run finds the bill
            detail["erp_error"] = str(exc)
            return Outcome("restocked", detail)
        ref = request_ref(order)
        mine = sorted({b["bill_no"] for b in bills if b["aftersale_ref"] == ref})
        if mine:
            view.count_return_bill(mine[0])
            detail["erp_bill"] = mine[0]
        return Outcome("restocked", detail)
