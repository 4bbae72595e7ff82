"""The `classify_request` node: refund only, return and refund, or exchange — or already
settled by the platform (closed by the buyer, a refund-only request refunded by the
platform itself; a return the platform refunded still comes back and is restocked)."""

from __future__ import annotations

from pydantic import BaseModel

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.after_sale_item import request_of


@node("classify_request")
class ClassifyRequest(BaseNode):
    """Route a request by its type, or by the platform having settled it already."""

    class Params(BaseModel):
        pass

    outcomes = ("refund_only", "return", "exchange", "closed", "refunded_by_platform")

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        request = request_of(order)
        if request.get("system_refund") and request["type"] == "refund_only":
            return Outcome("refunded_by_platform", {"type": request["type"]})
        if request["status"] == "closed":
            return Outcome("closed", {"type": request["type"]}, reason="closed by the buyer")
        kind = {"refund_only": "refund_only", "return_refund": "return", "exchange": "exchange"}
        return Outcome(kind.get(request["type"], "refund_only"), {"type": request["type"]})
