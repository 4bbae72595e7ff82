"""The `refund_rules` node: approve at once, take the parcel back, inspect it, or ask a
person — by the workflow's thresholds."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.after_sale_item import request_of


@node("refund_rules")
class RefundRules(BaseNode):
    """Refund-only under a threshold before shipment: approve; high-value or serial-tracked
    returns and every exchange: inspect; other returns: refund on the scan; else a person."""

    class Params(BaseModel):
        refund_only_max_yuan: float = Field(
            300, ge=0, description="a refund-only request before shipment up to this is approved"
        )
        inspect_min_yuan: float = Field(
            1000, ge=0, description="a return worth at least this is inspected before refunding"
        )

    outcomes = ("approve", "return", "inspect", "person")

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        p, request = self.params, request_of(order)
        amount = Decimal(request["refund"])
        if request["type"] == "refund_only":
            if not ctx.fact("shipped") and amount <= Decimal(str(p.refund_only_max_yuan)):
                return Outcome("approve", {"rule": "refund only before shipment, small"})
            why = "refund_review"
            return Outcome("person", {"rule": why}, reason=why)
        serial = bool(ctx.fact("serial_skus"))
        if request["type"] == "exchange" or serial or amount >= Decimal(str(p.inspect_min_yuan)):
            rule = (
                "exchange"
                if request["type"] == "exchange"
                else ("serial-tracked" if serial else "high value")
            )
            return Outcome("inspect", {"inspect": True, "rule": rule})
        return Outcome("return", {"inspect": False, "rule": "refund on the scan"})
